#include "files/multipart.hpp"

#include "common/http_message.hpp"

namespace otad::files {
namespace {

/// Spaces or tabs allowed after a delimiter, before its line break.
constexpr size_t kMaxDelimiterPadding = 256;
constexpr size_t kMaxBoundaryChars = 70;

Error Malformed(std::string message) {
    return MakeError(ErrorCode::kBadRequest, std::move(message));
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

/// One `name=value` parameter list of a header value (after the first ';'), with quoted
/// strings unquoted. Calls `fn(name, value)` for each; false on a malformed quoted string.
template <typename Fn>
bool ForEachParameter(std::string_view params, Fn fn) {
    size_t i = 0;
    while (i < params.size()) {
        while (i < params.size() && (params[i] == ';' || params[i] == ' ' || params[i] == '\t')) {
            ++i;
        }
        if (i >= params.size()) {
            break;
        }
        const size_t eq = params.find('=', i);
        const size_t semi = params.find(';', i);
        if (eq == std::string_view::npos || (semi != std::string_view::npos && semi < eq)) {
            // A bare token without a value; skip it.
            i = semi == std::string_view::npos ? params.size() : semi;
            continue;
        }
        const std::string_view name = Trim(params.substr(i, eq - i));
        i = eq + 1;
        while (i < params.size() && (params[i] == ' ' || params[i] == '\t')) {
            ++i;
        }
        std::string value;
        if (i < params.size() && params[i] == '"') {
            ++i;
            bool closed = false;
            while (i < params.size()) {
                const char c = params[i++];
                if (c == '\\' && i < params.size()) {
                    value.push_back(params[i++]);
                } else if (c == '"') {
                    closed = true;
                    break;
                } else {
                    value.push_back(c);
                }
            }
            if (!closed) {
                return false;
            }
        } else {
            const size_t end = params.find(';', i);
            value = std::string(Trim(params.substr(
                i, end == std::string_view::npos ? std::string_view::npos : end - i)));
            i = end == std::string_view::npos ? params.size() : end;
        }
        fn(name, std::move(value));
    }
    return true;
}

std::string_view MediaType(std::string_view content_type) {
    return Trim(content_type.substr(0, content_type.find(';')));
}

}  // namespace

bool IsMultipartFormData(std::string_view content_type) {
    return EqualsIgnoreCase(MediaType(content_type), "multipart/form-data");
}

Result<std::string> BoundaryFromContentType(std::string_view content_type) {
    if (!IsMultipartFormData(content_type)) {
        return Malformed("The body is not multipart/form-data.");
    }
    const size_t semi = content_type.find(';');
    std::string boundary;
    if (semi != std::string_view::npos) {
        const bool ok = ForEachParameter(
            content_type.substr(semi + 1), [&](std::string_view name, std::string value) {
                if (EqualsIgnoreCase(name, "boundary") && boundary.empty()) {
                    boundary = std::move(value);
                }
            });
        if (!ok) {
            return Malformed("The Content-Type header is malformed.");
        }
    }
    if (boundary.empty() || boundary.size() > kMaxBoundaryChars) {
        return Malformed("The multipart boundary is missing or longer than 70 characters.");
    }
    return boundary;
}

MultipartParser::MultipartParser(std::string_view boundary,
                                 MultipartLimits limits,
                                 FileSink file_sink)
    : delimiter_("\r\n--" + std::string(boundary)),
      limits_(limits),
      file_sink_(std::move(file_sink)),
      // The first delimiter may open the body without a line break before it; pretending one
      // was there lets every delimiter be found the same way.
      pending_("\r\n") {}

const std::string* MultipartParser::Field(std::string_view name) const {
    for (const FormField& f : fields_) {
        if (EqualsIgnoreCase(f.name, name)) {
            return &f.value;
        }
    }
    return nullptr;
}

Status MultipartParser::Feed(std::string_view data) {
    if (state_ == State::kDone) {
        return Ok();  // the epilogue is ignored
    }
    pending_.append(data);
    for (;;) {
        OTA_ASSIGN_OR_RETURN(const bool progressed, Step());
        if (!progressed) {
            return Ok();
        }
    }
}

Status MultipartParser::Finish() {
    if (state_ != State::kDone) {
        return Malformed("The multipart body ends before its closing delimiter.");
    }
    return Ok();
}

Result<bool> MultipartParser::Step() {
    switch (state_) {
        case State::kPreamble: {
            const size_t pos = pending_.find(delimiter_);
            if (pos == std::string::npos) {
                const size_t keep = std::min(pending_.size(), delimiter_.size() - 1);
                preamble_bytes_ += pending_.size() - keep;
                pending_.erase(0, pending_.size() - keep);
                if (preamble_bytes_ > limits_.max_preamble_bytes) {
                    return Malformed("No multipart delimiter found.");
                }
                return false;
            }
            preamble_bytes_ += pos;
            if (preamble_bytes_ > limits_.max_preamble_bytes) {
                return Malformed("No multipart delimiter found.");
            }
            pending_.erase(0, pos + delimiter_.size());
            state_ = State::kAfterDelimiter;
            return true;
        }
        case State::kAfterDelimiter: {
            size_t padding = 0;
            while (padding < pending_.size() &&
                   (pending_[padding] == ' ' || pending_[padding] == '\t')) {
                ++padding;
            }
            if (padding > kMaxDelimiterPadding) {
                return Malformed("A multipart delimiter line is malformed.");
            }
            if (pending_.size() < padding + 2) {
                return false;
            }
            if (padding == 0 && pending_.compare(0, 2, "--") == 0) {
                state_ = State::kDone;
                pending_.clear();
                return false;
            }
            if (pending_.compare(padding, 2, "\r\n") != 0) {
                return Malformed("A multipart delimiter line is malformed.");
            }
            pending_.erase(0, padding + 2);
            state_ = State::kHeaders;
            return true;
        }
        case State::kHeaders: {
            size_t block_end = 0;  // end of the header lines, including the last CRLF
            size_t consumed = 0;   // including the empty line
            if (pending_.size() >= 2 && pending_.compare(0, 2, "\r\n") == 0) {
                consumed = 2;
            } else {
                const size_t pos = pending_.find("\r\n\r\n");
                if (pos == std::string::npos) {
                    if (pending_.size() > limits_.max_part_header_bytes) {
                        return Malformed("The headers of a multipart part are too large.");
                    }
                    return false;
                }
                block_end = pos + 2;
                consumed = pos + 4;
            }
            if (block_end > limits_.max_part_header_bytes) {
                return Malformed("The headers of a multipart part are too large.");
            }
            OTA_TRY(ParsePartHeaders(std::string_view(pending_).substr(0, block_end)));
            pending_.erase(0, consumed);
            state_ = State::kBody;
            return true;
        }
        case State::kBody: {
            const size_t pos = pending_.find(delimiter_);
            if (pos != std::string::npos) {
                OTA_TRY(Emit(std::string_view(pending_).substr(0, pos)));
                pending_.erase(0, pos + delimiter_.size());
                state_ = State::kAfterDelimiter;
                return true;
            }
            // Everything except a possible start of a delimiter is part data.
            if (pending_.size() >= delimiter_.size()) {
                const size_t n = pending_.size() - (delimiter_.size() - 1);
                OTA_TRY(Emit(std::string_view(pending_).substr(0, n)));
                pending_.erase(0, n);
            }
            return false;
        }
        case State::kDone:
            return false;
    }
    return false;
}

Status MultipartParser::ParsePartHeaders(std::string_view block) {
    if (++parts_ > limits_.max_parts) {
        return Malformed("The form has more than " + std::to_string(limits_.max_parts) + " parts.");
    }
    std::string name;
    bool has_name = false;
    bool is_form_data = false;
    std::string filename;
    std::string content_type;
    while (!block.empty()) {
        const size_t eol = block.find("\r\n");
        const std::string_view line = block.substr(0, eol);
        block.remove_prefix(eol == std::string_view::npos ? block.size() : eol + 2);
        const size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' ||
            line.front() == '\t') {
            return Malformed("A multipart part has a malformed header line.");
        }
        const std::string_view header = line.substr(0, colon);
        const std::string_view value = Trim(line.substr(colon + 1));
        if (EqualsIgnoreCase(header, "Content-Disposition")) {
            const size_t semi = value.find(';');
            is_form_data = EqualsIgnoreCase(Trim(value.substr(0, semi)), "form-data");
            if (semi != std::string_view::npos) {
                const bool ok = ForEachParameter(value.substr(semi + 1),
                                                 [&](std::string_view p, std::string v) {
                                                     if (EqualsIgnoreCase(p, "name")) {
                                                         name = std::move(v);
                                                         has_name = true;
                                                     } else if (EqualsIgnoreCase(p, "filename")) {
                                                         filename = std::move(v);
                                                     }
                                                 });
                if (!ok) {
                    return Malformed("A multipart part has a malformed Content-Disposition.");
                }
            }
        } else if (EqualsIgnoreCase(header, "Content-Type")) {
            content_type = std::string(value);
        }
    }
    if (!is_form_data || !has_name || name.empty()) {
        return Malformed("Every multipart part needs Content-Disposition: form-data with a name.");
    }
    if (EqualsIgnoreCase(name, "file")) {
        if (has_file_) {
            return Malformed("The form has more than one file.");
        }
        has_file_ = true;
        part_ = Part::kFile;
        file_name_ = std::move(filename);
        file_content_type_ = std::move(content_type);
        return Ok();
    }
    part_ = Part::kField;
    fields_.push_back(FormField{std::move(name), {}});
    return Ok();
}

Status MultipartParser::Emit(std::string_view data) {
    if (data.empty()) {
        return Ok();
    }
    if (part_ == Part::kFile) {
        file_size_ += data.size();
        return file_sink_(data);
    }
    std::string& value = fields_.back().value;
    if (value.size() + data.size() > limits_.max_field_bytes) {
        return Malformed("The form field '" + fields_.back().name.substr(0, 64) +
                         "' is too large.");
    }
    value.append(data);
    return Ok();
}

}  // namespace otad::files

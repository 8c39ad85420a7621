#include "rpc/render/writer.hpp"

#include "common/text.hpp"

#include <charconv>

namespace otad::rpc {

ResponseWriter::ResponseWriter(Format format) : format_(format) {
    out_.reserve(1024);
}

void ResponseWriter::BeginRoot(std::string_view root_element) {
    root_ = root_element;
    stack_.push_back(Frame{});
    if (format_ == Format::kJson) {
        out_ += '{';
    } else {
        out_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
        OpenTag(root_);
    }
}

void ResponseWriter::EndRoot() {
    stack_.pop_back();
    if (format_ == Format::kJson) {
        out_ += '}';
    } else {
        CloseTag(root_);
    }
}

void ResponseWriter::Comma() {
    Frame& f = stack_.back();
    if (!f.first) {
        out_ += ',';
    }
    f.first = false;
}

void ResponseWriter::Key(std::string_view name) {
    Comma();
    out_ += '"';
    out_ += name;
    out_ += "\":";
}

void ResponseWriter::OpenTag(std::string_view name) {
    out_ += '<';
    out_ += name;
    out_ += '>';
}

void ResponseWriter::CloseTag(std::string_view name) {
    out_ += "</";
    out_ += name;
    out_ += '>';
}

void ResponseWriter::String(std::string_view name, std::string_view value) {
    if (format_ == Format::kJson) {
        Key(name);
        AppendJsonString(value);
    } else {
        OpenTag(name);
        AppendXmlText(value);
        CloseTag(name);
    }
}

void ResponseWriter::Int(std::string_view name, int64_t value) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    const std::string_view digits(buf, static_cast<size_t>(r.ptr - buf));
    if (format_ == Format::kJson) {
        Key(name);
        out_ += digits;
    } else {
        OpenTag(name);
        out_ += digits;
        CloseTag(name);
    }
}

void ResponseWriter::Bool(std::string_view name, bool value) {
    const std::string_view text = value ? "true" : "false";
    if (format_ == Format::kJson) {
        Key(name);
        out_ += text;
    } else {
        OpenTag(name);
        out_ += text;
        CloseTag(name);
    }
}

void ResponseWriter::BeginObject(std::string_view name) {
    if (format_ == Format::kJson) {
        Key(name);
        out_ += '{';
        stack_.push_back(Frame{std::string(name), false, true, 0});
    } else {
        OpenTag(name);
        stack_.push_back(Frame{std::string(name), false, true, out_.size()});
    }
}

void ResponseWriter::EndObject() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (format_ == Format::kJson) {
        out_ += '}';
    } else if (out_.size() == f.open_tag_end) {
        // Nothing inside: <Data></Data> becomes <Data/>.
        out_.resize(out_.size() - 1);
        out_ += "/>";
    } else {
        CloseTag(f.name);
    }
}

void ResponseWriter::BeginArray(std::string_view item_name) {
    if (format_ == Format::kJson) {
        Key(item_name);
        out_ += '[';
    }
    stack_.push_back(Frame{std::string(item_name), true, true, 0});
}

void ResponseWriter::EndArray() {
    stack_.pop_back();
    if (format_ == Format::kJson) {
        out_ += ']';
    }
}

void ResponseWriter::BeginItem() {
    const std::string name = stack_.back().name;
    if (format_ == Format::kJson) {
        Comma();
        out_ += '{';
        stack_.push_back(Frame{name, false, true, 0});
    } else {
        OpenTag(name);
        stack_.push_back(Frame{name, false, true, out_.size()});
    }
}

void ResponseWriter::EndItem() {
    EndObject();
}

void ResponseWriter::ItemString(std::string_view value) {
    if (format_ == Format::kJson) {
        Comma();
        AppendJsonString(value);
    } else {
        const std::string& name = stack_.back().name;
        OpenTag(name);
        AppendXmlText(value);
        CloseTag(name);
    }
}

void ResponseWriter::AppendJsonString(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out_ += '"';
    size_t pos = 0;
    while (pos < s.size()) {
        const auto c = static_cast<unsigned char>(s[pos]);
        if (c >= 0x80) {
            const size_t start = pos;
            if (text::NextCodePoint(s, pos)) {
                out_.append(s.substr(start, pos - start));
            } else {
                out_ += "\\ufffd";  // never emit malformed UTF-8
            }
            continue;
        }
        ++pos;
        switch (c) {
            case '"':
                out_ += "\\\"";
                break;
            case '\\':
                out_ += "\\\\";
                break;
            case '\n':
                out_ += "\\n";
                break;
            case '\r':
                out_ += "\\r";
                break;
            case '\t':
                out_ += "\\t";
                break;
            default:
                if (c < 0x20) {
                    out_ += "\\u00";
                    out_ += kHex[c >> 4];
                    out_ += kHex[c & 0xF];
                } else {
                    out_ += static_cast<char>(c);
                }
        }
    }
    out_ += '"';
}

void ResponseWriter::AppendXmlText(std::string_view s) {
    size_t pos = 0;
    while (pos < s.size()) {
        const auto c = static_cast<unsigned char>(s[pos]);
        if (c >= 0x80) {
            const size_t start = pos;
            if (text::NextCodePoint(s, pos)) {
                out_.append(s.substr(start, pos - start));
            } else {
                out_ += "\xEF\xBF\xBD";
            }
            continue;
        }
        ++pos;
        switch (c) {
            case '&':
                out_ += "&amp;";
                break;
            case '<':
                out_ += "&lt;";
                break;
            case '>':
                out_ += "&gt;";
                break;
            case '"':
                out_ += "&quot;";
                break;
            case '\'':
                out_ += "&apos;";
                break;
            default:
                // XML 1.0 cannot carry most control characters, even escaped.
                if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
                    out_ += "\xEF\xBF\xBD";
                } else {
                    out_ += static_cast<char>(c);
                }
        }
    }
}

}  // namespace otad::rpc

#pragma once

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

// A streaming reader of multipart/form-data bodies (RFC 7578), as browsers and OSS PostObject
// clients send them. Input arrives in pieces of any size; a delimiter may be split across
// pieces. Ordinary fields are kept in memory within limits; the one part named `file` is
// handed to a sink as it arrives, so its size is bounded only by the caller.

namespace otad::files {

struct MultipartLimits {
    size_t max_field_bytes = 64 * 1024;
    size_t max_parts = 32;
    /// Header lines of one part.
    size_t max_part_header_bytes = 16 * 1024;
    /// Bytes before the first delimiter.
    size_t max_preamble_bytes = 64 * 1024;
};

struct FormField {
    std::string name;
    std::string value;
};

/// The boundary parameter of a multipart/form-data Content-Type value, unquoted. kBadRequest
/// when the media type is another one or the boundary is missing or not 1 to 70 characters.
Result<std::string> BoundaryFromContentType(std::string_view content_type);

/// True when the media type of a Content-Type value is multipart/form-data.
bool IsMultipartFormData(std::string_view content_type);

class MultipartParser {
  public:
    /// Receives the file part's bytes in order; a failure stops the parse with that error.
    using FileSink = std::function<Status(std::string_view)>;

    MultipartParser(std::string_view boundary, MultipartLimits limits, FileSink file_sink);

    /// Consumes the next piece of the body. Errors are kBadRequest (malformed or over a
    /// limit) or the sink's; after an error the parser must not be fed again.
    Status Feed(std::string_view data);
    /// Declares the end of the body: kBadRequest unless the closing delimiter was seen. (More
    /// than one file part is refused while parsing; whether one is required is the caller's
    /// business, see has_file().)
    Status Finish();

    /// Fields other than the file, in order of arrival.
    const std::vector<FormField>& fields() const { return fields_; }
    /// First field whose name equals `name` ignoring ASCII letter case, or nullptr.
    const std::string* Field(std::string_view name) const;
    bool has_file() const { return has_file_; }
    /// The file part's filename parameter and Content-Type, as sent.
    const std::string& file_name() const { return file_name_; }
    const std::string& file_content_type() const { return file_content_type_; }
    uint64_t file_size() const { return file_size_; }

  private:
    enum class State { kPreamble, kAfterDelimiter, kHeaders, kBody, kDone };
    enum class Part { kField, kFile };

    /// One step of the state machine; false when more input is needed.
    Result<bool> Step();
    Status ParsePartHeaders(std::string_view block);
    Status Emit(std::string_view data);

    const std::string delimiter_;  // CRLF "--" boundary
    const MultipartLimits limits_;
    const FileSink file_sink_;

    State state_ = State::kPreamble;
    std::string pending_;
    size_t preamble_bytes_ = 0;
    size_t parts_ = 0;
    Part part_ = Part::kField;

    std::vector<FormField> fields_;
    bool has_file_ = false;
    std::string file_name_;
    std::string file_content_type_;
    uint64_t file_size_ = 0;
};

}  // namespace otad::files

#include "files/download_handler.hpp"

#include "common/log.hpp"
#include "common/text.hpp"
#include "files/oss_response.hpp"

#include <limits>
#include <optional>

namespace otad::files {
namespace {

/// The value of query parameter `name` (not decoded: the values used here are digits and hex).
std::string_view QueryValue(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view item = query.substr(0, amp);
        const size_t eq = item.find('=');
        if (item.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string_view{} : item.substr(eq + 1);
        }
        query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    }
    return {};
}

}  // namespace

RangeRequest ParseRange(std::string_view header, uint64_t total) {
    RangeRequest whole;
    header = text::TrimBlanks(header);
    if (header.size() < 6 || !EqualsIgnoreCase(header.substr(0, 6), "bytes=")) {
        return whole;
    }
    const std::string_view spec = text::TrimBlanks(header.substr(6));
    if (spec.find(',') != std::string_view::npos) {
        return whole;  // several ranges: the whole file is a valid answer
    }
    const size_t dash = spec.find('-');
    if (dash == std::string_view::npos) {
        return whole;
    }
    const std::string_view first_text = text::TrimBlanks(spec.substr(0, dash));
    const std::string_view last_text = text::TrimBlanks(spec.substr(dash + 1));
    RangeRequest r;
    if (first_text.empty()) {
        // A suffix: the last N bytes.
        const auto n = text::ParseDigits(last_text);
        if (!n) {
            return whole;
        }
        if (*n == 0 || total == 0) {
            r.kind = RangeRequest::Kind::kUnsatisfiable;
            return r;
        }
        r.kind = RangeRequest::Kind::kPartial;
        r.first = *n >= total ? 0 : total - *n;
        r.last = total - 1;
        return r;
    }
    const auto first = text::ParseDigits(first_text);
    if (!first) {
        return whole;
    }
    uint64_t last = std::numeric_limits<uint64_t>::max();
    if (!last_text.empty()) {
        const auto l = text::ParseDigits(last_text);
        if (!l || *l < *first) {
            return whole;  // not a valid range: ignored
        }
        last = *l;
    }
    if (*first >= total) {
        r.kind = RangeRequest::Kind::kUnsatisfiable;
        return r;
    }
    r.kind = RangeRequest::Kind::kPartial;
    r.first = *first;
    r.last = std::min(last, total - 1);
    return r;
}

DownloadHandler::DownloadHandler(domain::FileService& files,
                                 DiskBlobStore& blobs,
                                 const Clock& clock)
    : files_(files), blobs_(blobs), clock_(clock) {}

bool DownloadHandler::IsDownload(const HttpRequest& request) {
    return (request.method == "GET" || request.method == "HEAD") &&
           request.Path().starts_with("/fw/");
}

HttpResponse DownloadHandler::Handle(const HttpRequest& request) {
    const std::string request_id = NewOssRequestId();
    auto fail = [&](int status, std::string_view code, std::string_view message) {
        HttpResponse r = OssError(status, code, message, request_id);
        r.log.action = "Download";
        return r;
    };
    if (request.method != "GET" && request.method != "HEAD") {
        HttpResponse r = fail(405, "MethodNotAllowed", "Only GET and HEAD are allowed.");
        r.headers.push_back({"Allow", "GET, HEAD"});
        return r;
    }
    const std::string_view query = request.Query();
    auto target = files_.VerifyDownload(
        request.Path(), QueryValue(query, "e"), QueryValue(query, "s"), clock_.NowMs());
    if (!target.ok()) {
        switch (target.error().code) {
            case ErrorCode::kSignatureDoesNotMatch:
                return fail(403, "SignatureDoesNotMatch", target.error().message);
            case ErrorCode::kTimestampExpired:
                return fail(403, "AccessDenied", target.error().message);
            case ErrorCode::kFileNotFound:
                return fail(404, "NoSuchKey", target.error().message);
            default:
                log::Error("download failed: " + target.error().internal);
                return fail(500, "InternalError", "We encountered an internal error.");
        }
    }
    auto size = blobs_.Size(target->sha256);
    if (!size.ok()) {
        if (size.error().code == ErrorCode::kFileNotFound) {
            return fail(404, "NoSuchKey", "The file does not exist.");
        }
        log::Error("download failed: " + size.error().internal);
        return fail(500, "InternalError", "We encountered an internal error.");
    }
    const uint64_t total = *size;

    HttpResponse response;
    response.log.request_id = request_id;
    response.log.action = "Download";
    response.content_type = "application/octet-stream";
    response.headers.push_back({"Accept-Ranges", "bytes"});
    response.headers.push_back({"ETag", "\"" + target->sha256.substr(0, 32) + "\""});
    const std::string* range_header = request.FindHeader("Range");
    const RangeRequest range = range_header ? ParseRange(*range_header, total) : RangeRequest{};
    switch (range.kind) {
        case RangeRequest::Kind::kUnsatisfiable: {
            HttpResponse r = fail(416, "InvalidRange", "The requested range cannot be satisfied.");
            r.headers.push_back({"Content-Range", "bytes */" + std::to_string(total)});
            r.headers.push_back({"Accept-Ranges", "bytes"});
            return r;
        }
        case RangeRequest::Kind::kPartial:
            response.status = 206;
            response.file_offset = range.first;
            response.file_length = range.last - range.first + 1;
            response.headers.push_back({"Content-Range",
                                        "bytes " + std::to_string(range.first) + "-" +
                                            std::to_string(range.last) + "/" +
                                            std::to_string(total)});
            break;
        case RangeRequest::Kind::kWhole:
            response.status = 200;
            response.file_offset = 0;
            response.file_length = total;
            break;
    }
    response.body_file = blobs_.PathOf(target->sha256);
    return response;
}

}  // namespace otad::files

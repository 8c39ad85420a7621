#include "files/upload_handler.hpp"

#include "common/log.hpp"
#include "files/digests.hpp"
#include "files/oss_response.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace otad::files {
namespace {

constexpr size_t kReadChunkBytes = 256 * 1024;

/// Feeds the body, from memory or from its spool file, to the parser in pieces.
Status FeedBody(const HttpRequest& request, MultipartParser& parser) {
    if (request.body_file.empty()) {
        return parser.Feed(request.body);
    }
    const int fd = ::open(request.body_file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return InternalError("cannot open spooled upload: " + std::string(std::strerror(errno)));
    }
    std::string chunk(kReadChunkBytes, '\0');
    Status st = Ok();
    for (;;) {
        const ssize_t n = ::read(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            st = InternalError("cannot read spooled upload: " + std::string(std::strerror(errno)));
            break;
        }
        if (n == 0) {
            break;
        }
        st = parser.Feed(std::string_view(chunk.data(), static_cast<size_t>(n)));
        if (!st.ok()) {
            break;
        }
    }
    ::close(fd);
    return st;
}

HttpResponse ErrorFor(const Error& error, const std::string& request_id) {
    switch (error.code) {
        case ErrorCode::kBadRequest:
            return OssError(400, "MalformedPOSTRequest", error.message, request_id);
        case ErrorCode::kAccessKeyNotFound:
            return OssError(403, "InvalidAccessKeyId", error.message, request_id);
        case ErrorCode::kSignatureDoesNotMatch:
            return OssError(403, "SignatureDoesNotMatch", error.message, request_id);
        case ErrorCode::kTimestampExpired:
        case ErrorCode::kFileNotFound:
        case ErrorCode::kInvalidFormattedParameter:
            return OssError(403, "AccessDenied", error.message, request_id);
        case ErrorCode::kInvalidParameter:
            return OssError(400, "EntityTooLarge", error.message, request_id);
        case ErrorCode::kMissingParameter:
            return OssError(400, "InvalidArgument", error.message, request_id);
        default:
            log::Error("upload failed: " +
                       (error.internal.empty() ? error.message : error.internal));
            return OssError(500,
                            "InternalError",
                            "We encountered an internal error. Please try again.",
                            request_id);
    }
}

std::string UpperHex(std::string hex) {
    std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) {
        return (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
    });
    return hex;
}

}  // namespace

UploadHandler::UploadHandler(domain::FileService& files,
                             DiskBlobStore& blobs,
                             const Clock& clock,
                             MultipartLimits limits)
    : files_(files), blobs_(blobs), clock_(clock), limits_(limits) {}

bool UploadHandler::IsUpload(const HttpRequest& request) {
    const std::string* content_type = request.FindHeader("Content-Type");
    return request.method == "POST" && content_type != nullptr &&
           IsMultipartFormData(*content_type);
}

HttpResponse UploadHandler::Handle(const HttpRequest& request) {
    const std::string request_id = NewOssRequestId();
    auto fail = [&](const Error& e) {
        HttpResponse r = ErrorFor(e, request_id);
        r.log.action = "PostObject";
        return r;
    };
    const std::string* content_type = request.FindHeader("Content-Type");
    auto boundary = BoundaryFromContentType(content_type ? *content_type : std::string());
    if (!boundary.ok()) {
        return fail(boundary.error());
    }
    auto staged = blobs_.CreateStagingFile();
    if (!staged.ok()) {
        return fail(staged.error());
    }
    Digests digests;
    MultipartParser parser(*boundary, limits_, [&](std::string_view data) {
        digests.Update(data);
        return staged->Write(data);
    });
    Status st = FeedBody(request, parser);
    if (st.ok()) {
        st = parser.Finish();
    }
    if (!st.ok()) {
        return fail(st.error());
    }
    staged->Close();
    digests.Finish();

    domain::PostedForm form;
    const std::string* key = parser.Field("key");
    const std::string* policy = parser.Field("policy");
    const std::string* access_key_id = parser.Field("OSSAccessKeyId");
    const std::string* signature = parser.Field("Signature");
    if (key == nullptr || key->empty()) {
        return fail(MakeError(ErrorCode::kMissingParameter, "The form has no key field."));
    }
    if (!parser.has_file()) {
        return fail(MakeError(ErrorCode::kMissingParameter, "The form has no file field."));
    }
    if (policy == nullptr || access_key_id == nullptr || signature == nullptr) {
        return fail(MakeError(ErrorCode::kFileNotFound,
                              "Anonymous uploads are not allowed: the form needs policy, "
                              "OSSAccessKeyId and Signature."));
    }
    form.object_key = *key;
    form.policy = *policy;
    form.access_key_id = *access_key_id;
    form.signature = *signature;
    domain::UploadedContent content;
    content.size = static_cast<int64_t>(digests.size());
    content.md5 = digests.md5();
    content.sha256 = digests.sha256();

    const std::string staged_path = staged->path();
    auto accepted = files_.AcceptUpload(form, content, clock_.NowMs(), [&]() -> Status {
        OTA_TRY(blobs_.Import(staged_path, content.sha256));
        staged->Keep();
        return Ok();
    });
    if (!accepted.ok()) {
        return fail(accepted.error());
    }

    HttpResponse response;
    response.log.request_id = request_id;
    response.log.action = "PostObject";
    response.headers.push_back({"x-oss-request-id", request_id});
    const std::string etag = "\"" + UpperHex(content.md5) + "\"";
    response.headers.push_back({"ETag", etag});
    const std::string* wanted = parser.Field("success_action_status");
    const std::string status = wanted ? *wanted : std::string();
    if (status == "200") {
        response.status = 200;
    } else if (status == "201") {
        const std::string location = files_.upload_base_url() + "/" + form.object_key;
        response.status = 201;
        response.content_type = "application/xml";
        response.headers.push_back({"Location", location});
        response.body =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse>\n  <Bucket>otad</Bucket>\n "
            " <Location>" +
            XmlEscape(location) + "</Location>\n  <Key>" + XmlEscape(form.object_key) +
            "</Key>\n  <ETag>" + XmlEscape(etag) + "</ETag>\n</PostResponse>\n";
    } else {
        response.status = 204;
    }
    return response;
}

}  // namespace otad::files

#include "domain/file_service.hpp"

#include "common/crypto.hpp"
#include "common/text.hpp"
#include "common/time_format.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace otad::domain {
namespace {

constexpr std::array<std::string_view, 10> kFirmwareSuffixes = {
    "bin", "dav", "apk", "tar", "gz", "tar.gz", "zip", "gzip", "tar.xz", "pack"};
constexpr std::string_view kDefaultSuffix = "bin";
constexpr std::string_view kDeviceListSuffix = "csv";
constexpr std::string_view kDownloadPrefix = "/fw/";
constexpr size_t kMaxDownloadUrlBytes = 254;
constexpr size_t kDownloadSignatureHexChars = 32;
constexpr size_t kSha256HexChars = 64;
constexpr int64_t kCollectBatch = 500;

// Labels that derive independent keys from the one server secret.
constexpr std::string_view kFormKeyLabel = "otad/form-signing";
constexpr std::string_view kDownloadKeyLabel = "otad/download-signing";
constexpr std::string_view kAccessKeyIdLabel = "otad/access-key-id";

bool IsLowerHex(std::string_view s, size_t length) {
    return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

bool IsUnreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

std::string EncodePathSegment(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        if (IsUnreserved(c)) {
            out.push_back(c);
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(kHex[b >> 4]);
            out.push_back(kHex[b & 0xf]);
        }
    }
    return out;
}

int HexValue(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

std::string DecodePathSegment(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

Error NoSuchFile(std::string message) {
    return MakeError(ErrorCode::kFileNotFound, std::move(message));
}

}  // namespace

FileService::FileService(Store& store,
                         BlobStore& blobs,
                         const Clock& clock,
                         FileServiceOptions options)
    : store_(store), blobs_(blobs), clock_(clock), options_(std::move(options)) {
    using crypto::HashAlgorithm;
    form_key_ = crypto::Hmac(HashAlgorithm::kSha256, options_.secret, kFormKeyLabel);
    download_key_ = crypto::Hmac(HashAlgorithm::kSha256, options_.secret, kDownloadKeyLabel);
    std::string id = crypto::HexLower(
        crypto::Hmac(HashAlgorithm::kSha256, options_.secret, kAccessKeyIdLabel).substr(0, 10));
    std::transform(id.begin(), id.end(), id.begin(), [](char c) {
        return (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
    });
    access_key_id_ = "OTAD" + id;
    upload_base_url_ = options_.upload_base_url;
    download_base_url_ = options_.download_base_url;
}

void FileService::SetBaseUrls(std::string upload_base_url, std::string download_base_url) {
    std::lock_guard<std::mutex> lock(url_mu_);
    upload_base_url_ = std::move(upload_base_url);
    download_base_url_ = std::move(download_base_url);
}

std::string FileService::upload_base_url() const {
    std::lock_guard<std::mutex> lock(url_mu_);
    return upload_base_url_;
}

std::string FileService::download_base_url() const {
    std::lock_guard<std::mutex> lock(url_mu_);
    return download_base_url_.empty() ? upload_base_url_ : download_base_url_;
}

int64_t FileService::MaxBytes(FileKind kind) const {
    return kind == FileKind::kDeviceList ? options_.max_device_list_bytes
                                         : options_.max_upload_bytes;
}

std::string FileService::PolicyFor(const StoredFile& file) const {
    // Object keys are made of letters, digits, '/', '.' and '_' only: nothing to escape.
    const std::string json = "{\"expiration\":\"" + FormatUtcMs(file.upload_deadline_ms) +
                             "\",\"conditions\":[[\"content-length-range\",0," +
                             std::to_string(MaxBytes(file.kind)) + "],[\"eq\",\"$key\",\"" +
                             file.object_key + "\"]]}";
    return crypto::Base64Encode(json);
}

std::string FileService::SignPolicy(std::string_view policy) const {
    return crypto::Base64Encode(crypto::Hmac(crypto::HashAlgorithm::kSha1, form_key_, policy));
}

std::string FileService::SignDownload(std::string_view path_ref, std::string_view expires) const {
    std::string text(path_ref);
    text += '\n';
    text += expires;
    return crypto::HexLower(crypto::Hmac(crypto::HashAlgorithm::kSha256, download_key_, text))
        .substr(0, kDownloadSignatureHexChars);
}

Result<UploadForm> FileService::GenerateForm(const Scope& scope,
                                             FileKind kind,
                                             std::string_view file_suffix) {
    std::string_view suffix = kDeviceListSuffix;
    if (kind == FileKind::kFirmware) {
        suffix = file_suffix.empty() ? kDefaultSuffix : file_suffix;
        if (std::find(kFirmwareSuffixes.begin(), kFirmwareSuffixes.end(), suffix) ==
            kFirmwareSuffixes.end()) {
            return MakeError(ErrorCode::kInvalidFormattedParameter,
                             "FileSuffix must be one of bin, dav, apk, tar, gz, tar.gz, zip, "
                             "gzip, tar.xz, pack.",
                             "FileSuffix");
        }
    }
    const int64_t now = clock_.NowMs();
    UploadForm form;
    StoredFile& file = form.file;
    file.object_key = "ota/" + crypto::RandomBase62(20) + "/" + crypto::RandomBase62(16) + "." +
                      std::string(suffix);
    file.kind = kind;
    file.created_ms = now;
    file.upload_deadline_ms = now + options_.form_ttl_ms;
    OTA_TRY(store_.Write([&](WriteTx& tx) { return tx.InsertFile(scope, file); }));
    form.host = upload_base_url();
    form.object_url = form.host + "/" + file.object_key;
    form.policy = PolicyFor(file);
    form.signature = SignPolicy(form.policy);
    form.access_key_id = access_key_id_;
    return form;
}

Result<AcceptedUpload> FileService::AcceptUpload(const PostedForm& form,
                                                 const UploadedContent& content,
                                                 int64_t now_ms,
                                                 const std::function<Status()>& store_blob) {
    if (!crypto::ConstantTimeEquals(form.access_key_id, access_key_id_)) {
        return MakeError(ErrorCode::kAccessKeyNotFound,
                         "The OSS Access Key Id you provided does not exist in our records.");
    }
    if (!crypto::ConstantTimeEquals(form.signature, SignPolicy(form.policy))) {
        return MakeError(ErrorCode::kSignatureDoesNotMatch,
                         "The request signature we calculated does not match the signature you "
                         "provided.");
    }
    std::lock_guard<std::mutex> lock(blob_mu_);
    AcceptedUpload accepted;
    std::string replaced_sha256;
    bool blob_stored = false;
    Status st = store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindFileAnyScope(form.object_key));
        if (!found) {
            return NoSuchFile("The upload form does not exist or has expired.");
        }
        auto& [scope, file] = *found;
        if (!crypto::ConstantTimeEquals(form.policy, PolicyFor(file))) {
            return MakeError(ErrorCode::kInvalidFormattedParameter,
                             "Invalid according to Policy: Policy Condition failed.");
        }
        if (now_ms > file.upload_deadline_ms) {
            return MakeError(ErrorCode::kTimestampExpired,
                             "Invalid according to Policy: Request has expired.");
        }
        if (content.size < 0 || content.size > MaxBytes(file.kind)) {
            return InvalidParam("file", "Your proposed upload exceeds the maximum allowed size.");
        }
        if (file.referenced) {
            return MakeError(ErrorCode::kInvalidFormattedParameter,
                             "The object is in use and cannot be replaced.");
        }
        if (store_blob) {
            OTA_TRY(store_blob());
            blob_stored = true;
        }
        if (file.uploaded_ms != 0 && file.sha256 != content.sha256) {
            replaced_sha256 = file.sha256;
        }
        file.size = content.size;
        file.md5 = content.md5;
        file.sha256 = content.sha256;
        file.uploaded_ms = now_ms;
        OTA_TRY(tx.UpdateFile(scope, file));
        accepted.scope = scope;
        accepted.file = file;
        return Ok();
    });
    // A blob that is not (or no longer) recorded anywhere is removed at once.
    auto remove_if_unused = [&](const std::string& sha256) {
        bool in_use = true;
        Status read = store_.Read([&](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(in_use, tx.BlobInUse(sha256));
            return Ok();
        });
        if (read.ok() && !in_use) {
            (void)blobs_.Remove(sha256);
        }
    };
    if (!st.ok()) {
        if (blob_stored) {
            remove_if_unused(content.sha256);
        }
        return std::move(st).error();
    }
    if (!replaced_sha256.empty()) {
        remove_if_unused(replaced_sha256);
    }
    return accepted;
}

std::optional<std::string> FileService::ObjectKeyOf(std::string_view url) const {
    url = url.substr(0, url.find_first_of("?#"));
    for (const std::string& base : {upload_base_url(), download_base_url()}) {
        if (!base.empty() && url.size() > base.size() + 1 && url.starts_with(base) &&
            url[base.size()] == '/') {
            return std::string(url.substr(base.size() + 1));
        }
    }
    return std::nullopt;
}

Result<std::optional<StoredFile>> FileService::ResolveUrl(ReadTx& tx,
                                                          const Scope& scope,
                                                          std::string_view url) const {
    const std::optional<std::string> key = ObjectKeyOf(url);
    if (!key) {
        return std::optional<StoredFile>{};
    }
    OTA_ASSIGN_OR_RETURN(std::optional<StoredFile> file, tx.FindFile(scope, *key));
    if (!file) {
        return NoSuchFile("The file does not exist.");
    }
    if (file->uploaded_ms == 0) {
        return NoSuchFile("The file has not been uploaded.");
    }
    if (!file->referenced && clock_.NowMs() - file->uploaded_ms > options_.unreferenced_ttl_ms) {
        return NoSuchFile("The file has expired.");
    }
    return file;
}

Result<std::optional<StoredFile>> FileService::FindPackageFile(ReadTx& tx,
                                                               const Scope& scope,
                                                               std::string_view url) const {
    std::optional<std::string> key = ObjectKeyOf(url);
    if (!key) {
        // Another base: take the path after "scheme://host[:port]/".
        const size_t scheme = url.find("://");
        const size_t path =
            scheme == std::string_view::npos ? std::string_view::npos : url.find('/', scheme + 3);
        if (path == std::string_view::npos) {
            return std::optional<StoredFile>{};
        }
        std::string_view rest = url.substr(path + 1);
        rest = rest.substr(0, rest.find_first_of("?#"));
        if (!rest.starts_with("ota/")) {
            return std::optional<StoredFile>{};
        }
        key = std::string(rest);
    }
    OTA_ASSIGN_OR_RETURN(std::optional<StoredFile> file, tx.FindFile(scope, *key));
    if (!file || file->uploaded_ms == 0) {
        return std::optional<StoredFile>{};
    }
    return file;
}

Result<std::vector<std::string>> FileService::ReadDeviceList(const Scope& scope,
                                                             std::string_view url) {
    std::optional<StoredFile> file;
    OTA_TRY(store_.Read([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(file, ResolveUrl(tx, scope, url));
        return Ok();
    }));
    if (!file || file->kind != FileKind::kDeviceList) {
        return NoSuchFile("DnListFileUrl must be a FileUrl from GenerateDeviceNameListURL.");
    }
    OTA_ASSIGN_OR_RETURN(
        const std::string text,
        blobs_.ReadAll(file->sha256, static_cast<size_t>(options_.max_device_list_bytes)));
    return ParseDeviceList(text, options_.max_device_names);
}

Result<std::string> FileService::DownloadUrl(std::string_view ref,
                                             std::string_view file_name,
                                             int64_t expires_ms) const {
    const bool is_blob = IsLowerHex(ref, kSha256HexChars);
    if (!is_blob && !ref.starts_with("ota/")) {
        return InternalError("download reference is neither a SHA-256 nor an object key");
    }
    const std::string expires = std::to_string((std::max<int64_t>(expires_ms, 0) + 999) / 1000);
    const std::string base = download_base_url();
    auto build = [&](bool with_name) {
        std::string path_ref(ref);
        if (is_blob && with_name && !file_name.empty()) {
            path_ref += "/" + EncodePathSegment(file_name);
        }
        return base + std::string(kDownloadPrefix) + path_ref + "?e=" + expires +
               "&s=" + SignDownload(path_ref, expires);
    };
    std::string url = build(true);
    if (url.size() > kMaxDownloadUrlBytes) {
        url = build(false);
    }
    if (url.size() > kMaxDownloadUrlBytes) {
        return InternalError("the download base URL is too long for device URLs");
    }
    return url;
}

Result<DownloadTarget> FileService::VerifyDownload(std::string_view path,
                                                   std::string_view expires,
                                                   std::string_view signature,
                                                   int64_t now_ms) {
    auto bad = [] {
        return MakeError(ErrorCode::kSignatureDoesNotMatch, "The download URL is not valid.");
    };
    if (!path.starts_with(kDownloadPrefix)) {
        return bad();
    }
    const std::string_view path_ref = path.substr(kDownloadPrefix.size());
    const std::optional<int64_t> e = text::ParseInt64(expires);
    if (path_ref.empty() || !e || *e < 0 || expires.size() > 12 ||
        !IsLowerHex(signature, kDownloadSignatureHexChars) ||
        !crypto::ConstantTimeEquals(signature, SignDownload(path_ref, expires))) {
        return bad();
    }
    if (*e * 1000 < now_ms) {
        return MakeError(ErrorCode::kTimestampExpired, "The download URL has expired.");
    }
    DownloadTarget target;
    if (path_ref.starts_with("ota/")) {
        std::optional<std::pair<Scope, StoredFile>> found;
        OTA_TRY(store_.Read([&](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(found, tx.FindFileAnyScope(path_ref));
            return Ok();
        }));
        if (!found || found->second.uploaded_ms == 0) {
            return NoSuchFile("The file does not exist.");
        }
        target.sha256 = found->second.sha256;
        target.size = found->second.size;
        target.file_name = std::string(path_ref.substr(path_ref.rfind('/') + 1));
        return target;
    }
    const size_t slash = path_ref.find('/');
    target.sha256 = std::string(path_ref.substr(0, slash));
    if (!IsLowerHex(target.sha256, kSha256HexChars)) {
        return bad();
    }
    if (slash != std::string_view::npos) {
        target.file_name = DecodePathSegment(path_ref.substr(slash + 1));
    }
    return target;
}

Result<int64_t> FileService::CollectExpired(int64_t now_ms) {
    const int64_t before_ms = now_ms - options_.unreferenced_ttl_ms;
    int64_t deleted = 0;
    for (;;) {
        std::lock_guard<std::mutex> lock(blob_mu_);
        std::vector<std::pair<Scope, StoredFile>> expired;
        OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(expired, tx.ListExpiredFiles(before_ms, kCollectBatch));
            for (const auto& [scope, file] : expired) {
                OTA_TRY(tx.DeleteFile(scope, file.object_key));
            }
            return Ok();
        }));
        deleted += static_cast<int64_t>(expired.size());
        std::set<std::string> blobs;
        for (const auto& entry : expired) {
            if (!entry.second.sha256.empty()) {
                blobs.insert(entry.second.sha256);
            }
        }
        for (const std::string& sha256 : blobs) {
            bool in_use = true;
            OTA_TRY(store_.Read([&](ReadTx& tx) -> Status {
                OTA_ASSIGN_OR_RETURN(in_use, tx.BlobInUse(sha256));
                return Ok();
            }));
            if (!in_use) {
                OTA_TRY(blobs_.Remove(sha256));
            }
        }
        if (static_cast<int64_t>(expired.size()) < kCollectBatch) {
            break;
        }
    }
    return deleted;
}

Result<std::vector<std::string>> ParseDeviceList(std::string_view text, size_t max_names) {
    if (text.starts_with("\xEF\xBB\xBF")) {
        text.remove_prefix(3);  // a byte order mark, as spreadsheet programs write
    }
    std::vector<std::string> names;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find_first_of("\r\n,", start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        std::string_view name = text.substr(start, end - start);
        while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) {
            name.remove_prefix(1);
        }
        while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) {
            name.remove_suffix(1);
        }
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
            name = name.substr(1, name.size() - 2);
        }
        if (!name.empty()) {
            if (names.size() == max_names) {
                return MakeError(
                    ErrorCode::kTooManyTargetDevices,
                    "The device list names more than " + std::to_string(max_names) + " devices.");
            }
            names.emplace_back(name);
        }
        start = end + 1;
    }
    return names;
}

}  // namespace otad::domain

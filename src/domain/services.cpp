#include "domain/services.hpp"

#include "common/crypto.hpp"
#include "common/http_message.hpp"
#include "common/text.hpp"
#include "domain/file_service.hpp"
#include "domain/service_helpers.hpp"
#include "domain/validation.hpp"

#include <algorithm>
#include <limits>
#include <set>
#include <unordered_set>

namespace otad::domain {
namespace {

using namespace detail;

Status CheckUrl(std::string_view url, std::string_view param) {
    if (!(url.starts_with("http://") || url.starts_with("https://")) || url.size() > 2048) {
        return MakeError(ErrorCode::kInvalidFirmwareUrl,
                         std::string(param) + " must be an absolute http or https URL.");
    }
    return Ok();
}

// Checks a hex digest of the length the method produces and returns it in lower case.
Result<std::string> NormalizeDigest(std::string_view digest,
                                    SignMethod method,
                                    std::string_view param) {
    const size_t want = method == SignMethod::kMd5 ? 32 : 64;
    std::string out;
    out.reserve(digest.size());
    for (char c : digest) {
        if (c >= 'A' && c <= 'F') {
            c = static_cast<char>(c - 'A' + 'a');
        }
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            out.clear();
            break;
        }
        out.push_back(c);
    }
    if (out.size() != want) {
        return Invalid(std::string(param) + " must be a " + std::to_string(want) +
                       "-digit hex digest (" + (method == SignMethod::kMd5 ? "MD5" : "SHA256") +
                       ").");
    }
    return out;
}

}  // namespace

Services::Services(Store& store, const Clock& clock, ServiceLimits limits)
    : store_(store), clock_(clock), limits_(limits) {}

// ---------------------------------------------------------------------------------------------
// Accounts

Result<AccountWithInstance> Services::CreateAccount(
    std::string_view name, std::optional<std::pair<std::string, std::string>> key_pair) {
    const auto name_len = text::CodePointCount(name);
    if (!name_len || *name_len < 1 || *name_len > 64) {
        return Invalid("Account names must be 1 to 64 characters.");
    }
    Account account;
    account.name = std::string(name);
    if (key_pair) {
        if (key_pair->first.empty() || key_pair->first.size() > 128 || key_pair->second.empty() ||
            key_pair->second.size() > 256) {
            return Invalid("AccessKeyId must be 1-128 and the secret 1-256 characters.");
        }
        for (char c : key_pair->first) {
            if (!text::IsAsciiAlnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' &&
                c != '.') {
                return Invalid("AccessKeyId may contain only letters, digits, '-', '_' and '.'.");
            }
        }
        account.access_key_id = key_pair->first;
        account.access_key_secret = key_pair->second;
    } else {
        account.access_key_id = "LTAI" + crypto::RandomBase62(20);
        account.access_key_secret = crypto::RandomBase62(30);
    }
    account.enabled = true;
    account.created_ms = clock_.NowMs();

    AccountWithInstance out;
    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto by_name, tx.FindAccountByName(account.name));
        if (by_name) {
            return Invalid("An account named '" + account.name + "' already exists.");
        }
        OTA_ASSIGN_OR_RETURN(auto by_key, tx.FindAccountByAccessKey(account.access_key_id));
        if (by_key) {
            return Invalid("That AccessKeyId already belongs to an account.");
        }
        OTA_ASSIGN_OR_RETURN(out.account, tx.InsertAccount(account));
        Instance instance;
        instance.account_id = out.account.id;
        instance.instance_id = NewInstanceId();
        instance.is_default = true;
        instance.created_ms = account.created_ms;
        OTA_ASSIGN_OR_RETURN(out.instance, tx.InsertInstance(instance));
        return Ok();
    }));
    return out;
}

Result<std::vector<AccountWithInstance>> Services::ListAccounts() {
    return ReadOne<std::vector<AccountWithInstance>>(
        store_, [](ReadTx& tx) -> Result<std::vector<AccountWithInstance>> {
            OTA_ASSIGN_OR_RETURN(auto accounts, tx.ListAccounts());
            std::vector<AccountWithInstance> out;
            for (Account& a : accounts) {
                OTA_ASSIGN_OR_RETURN(auto instance, tx.FindDefaultInstance(a.id));
                out.push_back({std::move(a), instance.value_or(Instance{})});
            }
            return out;
        });
}

Result<std::optional<Account>> Services::FindAccountByAccessKey(std::string_view access_key_id) {
    return ReadOne<std::optional<Account>>(
        store_, [&](ReadTx& tx) { return tx.FindAccountByAccessKey(access_key_id); });
}

Result<Scope> Services::ResolveScope(int64_t account_id, std::string_view iot_instance_id) {
    return ReadOne<Scope>(store_, [&](ReadTx& tx) -> Result<Scope> {
        std::optional<Instance> instance;
        if (iot_instance_id.empty()) {
            OTA_ASSIGN_OR_RETURN(instance, tx.FindDefaultInstance(account_id));
        } else {
            OTA_ASSIGN_OR_RETURN(instance, tx.FindInstance(account_id, iot_instance_id));
        }
        if (!instance) {
            return MakeError(ErrorCode::kInstanceNotFound);
        }
        return Scope{account_id, instance->id};
    });
}

// ---------------------------------------------------------------------------------------------
// Products and devices

Result<Product> Services::CreateProduct(const Scope& scope, const CreateProductCommand& cmd) {
    OTA_TRY(ValidateProductName(cmd.product_name));
    OTA_TRY(ValidateProductDescription(cmd.description));
    if (cmd.node_type != 0 && cmd.node_type != 1) {
        return MakeError(ErrorCode::kInvalidNodeType);
    }
    Product p;
    p.product_key = NewProductKey();
    p.product_name = cmd.product_name;
    p.product_secret = crypto::RandomBase62(16);
    p.description = cmd.description;
    p.node_type = static_cast<int>(cmd.node_type);
    const std::string code = cmd.aliyun_commodity_code.value_or("iothub");
    if (code != "iothub" && code != "iothub_senior") {
        return MakeError(ErrorCode::kInvalidCommodityCode);
    }
    p.aliyun_commodity_code = code;
    if (code == "iothub_senior" && !cmd.data_format) {
        return MakeError(ErrorCode::kInvalidDataFormat,
                         "DataFormat is required for iothub_senior products.");
    }
    if (cmd.data_format && *cmd.data_format != 0 && *cmd.data_format != 1) {
        return MakeError(ErrorCode::kInvalidDataFormat);
    }
    p.data_format = static_cast<int>(cmd.data_format.value_or(1));
    const std::string net = cmd.net_type.value_or("WIFI");
    if (net == "WIFI") {
        p.net_type = static_cast<int>(NetType::kWifi);
    } else if (net == "CELLULAR") {
        p.net_type = static_cast<int>(NetType::kCellular);
    } else if (net == "ETHERNET") {
        p.net_type = static_cast<int>(NetType::kEthernet);
    } else if (net == "OTHER") {
        p.net_type = static_cast<int>(NetType::kOther);
    } else {
        return Invalid("NetType must be WIFI, CELLULAR, ETHERNET or OTHER.");
    }
    p.auth_type = cmd.auth_type.value_or("secret");
    if (p.auth_type != "secret" && p.auth_type != "id2" && p.auth_type != "x509") {
        return Invalid("AuthType must be secret, id2 or x509.");
    }
    if (!cmd.protocol_type.empty()) {
        static const std::set<std::string_view> kProtocols = {
            "modbus", "opc-ua", "customize", "ble", "zigbee"};
        if (kProtocols.count(cmd.protocol_type) == 0) {
            return Invalid("ProtocolType must be modbus, opc-ua, customize, ble or zigbee.");
        }
    }
    p.protocol_type = cmd.protocol_type;
    p.id2 = cmd.id2.value_or(false);
    p.category_key = cmd.category_key;
    OTA_TRY(ValidateTextLength(p.category_key, 128, "CategoryKey"));
    p.publish_auto = cmd.publish_auto.value_or(true);
    if (cmd.validate_type && (*cmd.validate_type < 0 || *cmd.validate_type > 2)) {
        return Invalid("ValidateType must be 0, 1 or 2.");
    }
    p.validate_type = static_cast<int>(cmd.validate_type.value_or(0));
    p.created_ms = clock_.NowMs();

    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(bool taken, tx.ProductNameExists(scope, p.product_name));
        if (taken) {
            return MakeError(ErrorCode::kProductNameExists);
        }
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountProducts(scope));
        if (count >= limits_.max_products_per_instance) {
            return MakeError(ErrorCode::kProductQuotaExceeded);
        }
        return tx.InsertProduct(scope, p);
    }));
    return p;
}

Result<ProductDetail> Services::QueryProduct(const Scope& scope, std::string_view product_key) {
    return ReadOne<ProductDetail>(store_, [&](ReadTx& tx) -> Result<ProductDetail> {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountDevices(scope, product_key));
        return ProductDetail{std::move(*product), count};
    });
}

Result<Device> Services::RegisterDevice(const Scope& scope, const RegisterDeviceCommand& cmd) {
    Device d;
    d.device_name = cmd.device_name.empty() ? crypto::RandomBase62(20) : cmd.device_name;
    OTA_TRY(ValidateDeviceName(d.device_name));
    if (!cmd.nickname.empty()) {
        OTA_TRY(ValidateNickname(cmd.nickname));
    }
    d.iot_id = NewIotId();
    d.product_key = cmd.product_key;
    d.device_secret = crypto::RandomBase62(32);
    d.nickname = cmd.nickname;
    d.status = "UNACTIVE";
    d.created_ms = clock_.NowMs();
    d.modified_ms = d.created_ms;
    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, cmd.product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        OTA_ASSIGN_OR_RETURN(auto existing, tx.FindDevice(scope, cmd.product_key, d.device_name));
        if (existing) {
            return MakeError(ErrorCode::kDeviceNameExists);
        }
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountDevices(scope, cmd.product_key));
        if (count >= limits_.max_devices_per_product) {
            return MakeError(ErrorCode::kDeviceQuotaExceeded);
        }
        return tx.InsertDevice(scope, d);
    }));
    return d;
}

Result<DeviceDetail> Services::QueryDeviceDetail(const Scope& scope, const DeviceRef& ref) {
    return ReadOne<DeviceDetail>(store_, [&](ReadTx& tx) -> Result<DeviceDetail> {
        std::optional<Device> device;
        if (!ref.iot_id.empty()) {
            OTA_ASSIGN_OR_RETURN(device, tx.FindDeviceByIotId(scope, ref.iot_id));
        } else {
            OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, ref.product_key));
            if (!product) {
                return MakeError(ErrorCode::kProductNotFound);
            }
            OTA_ASSIGN_OR_RETURN(device, tx.FindDevice(scope, ref.product_key, ref.device_name));
        }
        if (!device) {
            return MakeError(ErrorCode::kDeviceNotFound);
        }
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, device->product_key));
        DeviceDetail out;
        out.device = std::move(*device);
        if (product) {
            out.product_name = product->product_name;
            out.node_type = product->node_type;
        }
        return out;
    });
}

// ---------------------------------------------------------------------------------------------
// Firmware

Result<Firmware> Services::CreateFirmware(const Scope& scope, const CreateFirmwareCommand& cmd) {
    OTA_TRY(ValidateFirmwareName(cmd.firmware_name));
    OTA_TRY(ValidateVersion(cmd.dest_version, "DestVersion"));
    OTA_TRY(ValidateTextLength(cmd.firmware_desc, 100, "FirmwareDesc"));
    OTA_TRY(ValidateTextLength(cmd.udi, 4096, "Udi"));
    Firmware f;
    f.firmware_id = NewFirmwareId();
    f.firmware_name = cmd.firmware_name;
    f.firmware_desc = cmd.firmware_desc;
    f.product_key = cmd.product_key;
    f.module_name = cmd.module_name.empty() || EqualsIgnoreCase(cmd.module_name, "default")
                        ? "default"
                        : cmd.module_name;
    f.dest_version = cmd.dest_version;
    f.type = static_cast<int>(cmd.type.value_or(0));
    if (f.type != 0 && f.type != 1) {
        return Invalid("Type must be 0 (full package) or 1 (differential package).");
    }
    if (f.type == 1) {
        if (cmd.src_version.empty()) {
            return Invalid("SrcVersion is required for a differential package.");
        }
        if (cmd.src_version == cmd.dest_version) {
            return Invalid("SrcVersion must differ from DestVersion.");
        }
    }
    if (!cmd.src_version.empty()) {
        OTA_TRY(ValidateVersion(cmd.src_version, "SrcVersion"));
    }
    f.src_version = cmd.src_version;
    const std::string method = cmd.sign_method.value_or("MD5");
    if (method == "MD5") {
        f.sign_method = SignMethod::kMd5;
    } else if (method == "SHA256") {
        f.sign_method = SignMethod::kSha256;
    } else {
        return Invalid("SignMethod must be MD5 or SHA256.");
    }
    const bool multi = !cmd.multi_files.empty();
    if (multi && (!cmd.firmware_url.empty() || cmd.firmware_sign || cmd.firmware_size)) {
        return Invalid(
            "FirmwareUrl, FirmwareSign and FirmwareSize cannot be combined with "
            "MultiFiles.");
    }
    if (!multi) {
        OTA_TRY(CheckUrl(cmd.firmware_url, "FirmwareUrl"));
        f.firmware_url = cmd.firmware_url;
        if (cmd.firmware_size && *cmd.firmware_size < 0) {
            return Invalid("FirmwareSize must not be negative.");
        }
        f.firmware_size = cmd.firmware_size.value_or(0);
        if (cmd.firmware_sign) {
            OTA_ASSIGN_OR_RETURN(
                f.firmware_sign,
                NormalizeDigest(*cmd.firmware_sign, f.sign_method, "FirmwareSign"));
        }
    }
    if (cmd.multi_files.size() > 20) {
        return Invalid("A package holds at most 20 files.");
    }
    std::set<std::string_view> file_names;
    for (const FirmwareFile& in : cmd.multi_files) {
        const auto name_len = text::CodePointCount(in.name);
        if (!name_len || *name_len < 1 || *name_len > 32) {
            return Invalid("MultiFiles.N.Name must be 1 to 32 characters.");
        }
        if (!file_names.insert(in.name).second) {
            return Invalid("MultiFiles.N.Name must be unique within the package.");
        }
        OTA_TRY(CheckUrl(in.url, "MultiFiles.N.Url"));
        if (in.size < 0) {
            return Invalid("MultiFiles.N.Size must not be negative.");
        }
        FirmwareFile file = in;
        if (!in.md5.empty()) {
            OTA_ASSIGN_OR_RETURN(file.md5,
                                 NormalizeDigest(in.md5, SignMethod::kMd5, "MultiFiles.N.FileMd5"));
        }
        if (!in.sign_value.empty()) {
            OTA_ASSIGN_OR_RETURN(
                file.sign_value,
                NormalizeDigest(in.sign_value, f.sign_method, "MultiFiles.N.SignValue"));
        }
        f.multi_files.push_back(std::move(file));
    }
    f.need_to_verify = cmd.need_to_verify.value_or(true);
    f.status =
        f.need_to_verify ? FirmwareStatus::kNotVerified : FirmwareStatus::kNoVerificationNeeded;
    f.verify_progress = 0;
    f.udi = cmd.udi;
    f.created_ms = clock_.NowMs();
    f.modified_ms = f.created_ms;
    // Resolves an otad object URL to its upload and fills (or checks) size and digests.
    auto UseUploadedFile = [&](WriteTx& tx,
                               const Scope& s,
                               const std::string& url,
                               SignMethod sign_method,
                               bool size_declared,
                               int64_t& size,
                               bool sign_declared,
                               std::string& sign,
                               std::string* md5) -> Status {
        if (files_ == nullptr) {
            return Ok();
        }
        OTA_ASSIGN_OR_RETURN(auto stored, files_->ResolveUrl(tx, s, url));
        if (!stored) {
            return Ok();  // an external URL: taken as declared
        }
        if (stored->kind != FileKind::kFirmware) {
            return MakeError(ErrorCode::kFileNotFound, "The URL names a device-list file.");
        }
        const std::string& digest = sign_method == SignMethod::kMd5 ? stored->md5 : stored->sha256;
        if (size_declared && size != stored->size) {
            return MakeError(ErrorCode::kFirmwareFileMismatch,
                             "The declared size " + std::to_string(size) +
                                 " differs from the uploaded file's " +
                                 std::to_string(stored->size) + " bytes.");
        }
        if ((sign_declared && sign != digest) ||
            (md5 != nullptr && !md5->empty() && *md5 != stored->md5)) {
            return MakeError(ErrorCode::kFirmwareFileMismatch,
                             "The declared sign differs from the uploaded file's digest.");
        }
        size = stored->size;
        sign = digest;
        if (md5 != nullptr) {
            *md5 = stored->md5;
        }
        stored->referenced = true;
        return tx.UpdateFile(s, *stored);
    };

    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, cmd.product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        if (f.module_name != "default") {
            OTA_ASSIGN_OR_RETURN(auto module, tx.FindModule(scope, cmd.product_key, f.module_name));
            if (!module) {
                return MakeError(ErrorCode::kModuleNotFound);
            }
            f.module_name = module->module_name;  // the stored spelling
        }
        OTA_ASSIGN_OR_RETURN(bool taken, tx.FirmwareNameExists(scope, f.firmware_name));
        if (taken) {
            return MakeError(ErrorCode::kFirmwareNameExists);
        }
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountFirmware(scope));
        if (count >= limits_.max_firmware_per_instance) {
            return MakeError(ErrorCode::kFirmwareQuotaExceeded);
        }
        // Files uploaded to otad: size and digests come from the upload, and what the caller
        // declared must agree with them.
        if (f.multi_files.empty()) {
            OTA_TRY(UseUploadedFile(tx,
                                    scope,
                                    f.firmware_url,
                                    f.sign_method,
                                    cmd.firmware_size.has_value(),
                                    f.firmware_size,
                                    cmd.firmware_sign.has_value(),
                                    f.firmware_sign,
                                    nullptr));
        } else {
            for (size_t i = 0; i < f.multi_files.size(); ++i) {
                FirmwareFile& file = f.multi_files[i];
                const FirmwareFile& asked = cmd.multi_files[i];
                OTA_TRY(UseUploadedFile(tx,
                                        scope,
                                        file.url,
                                        f.sign_method,
                                        asked.size != 0,
                                        file.size,
                                        !asked.sign_value.empty(),
                                        file.sign_value,
                                        &file.md5));
            }
        }
        return tx.InsertFirmware(scope, f);
    }));
    return f;
}

Result<FirmwareDetail> Services::QueryFirmware(const Scope& scope, std::string_view firmware_id) {
    return ReadOne<FirmwareDetail>(store_, [&](ReadTx& tx) -> Result<FirmwareDetail> {
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, firmware_id));
        if (!firmware) {
            return MakeError(ErrorCode::kFirmwareNotFound);
        }
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, firmware->product_key));
        FirmwareDetail out{std::move(*firmware), product ? product->product_name : std::string{}};
        return out;
    });
}

// ---------------------------------------------------------------------------------------------
// Batches

Result<Job> Services::CreateStaticJob(const Scope& scope, const CreateStaticJobCommand& cmd) {
    const int64_t now = clock_.NowMs();
    Job job;
    job.job_id = NewJobId();
    job.firmware_id = cmd.firmware_id;
    job.product_key = cmd.product_key;
    job.job_type = JobType::kUpgradeFirmware;
    job.selection_type = SelectionType::kStatic;
    job.created_ms = now;
    job.modified_ms = now;

    // Target selection and the parameters that go with it.
    const std::string& sel = cmd.target_selection;
    if (sel == "ALL") {
        job.target_selection = TargetSelection::kAll;
    } else if (sel == "SPECIFIC") {
        job.target_selection = TargetSelection::kSpecific;
    } else if (sel == "GRAY") {
        job.target_selection = TargetSelection::kGray;
    } else if (sel == "GROUP") {
        job.target_selection = TargetSelection::kGroup;
    } else {
        return Invalid("TargetSelection must be ALL, SPECIFIC, GRAY or GROUP.");
    }
    const bool specific = job.target_selection == TargetSelection::kSpecific;
    const bool group = job.target_selection == TargetSelection::kGroup;
    if ((specific || group) && !cmd.src_versions.empty()) {
        return Invalid("SrcVersion cannot be combined with TargetSelection " + sel + ".");
    }
    if (!specific && (!cmd.target_device_names.empty() || !cmd.dn_list_file_url.empty())) {
        return Invalid("TargetDeviceName and DnListFileUrl need TargetSelection SPECIFIC.");
    }
    if (cmd.src_versions.size() > 10) {
        return Invalid("At most 10 SrcVersion values are allowed.");
    }
    {
        std::set<std::string_view> seen;
        for (const std::string& v : cmd.src_versions) {
            OTA_TRY(ValidateVersion(v, "SrcVersion"));
            if (!seen.insert(v).second) {
                return Invalid("SrcVersion values must be unique.");
            }
        }
    }
    job.src_versions = cmd.src_versions;
    int64_t gray_milli = 0;
    if (job.target_selection == TargetSelection::kGray) {
        const auto p = ParsePercentMilli(cmd.gray_percent);
        if (cmd.gray_percent.empty()) {
            return MissingParam("GrayPercent");
        }
        if (!p) {
            return Invalid(
                "GrayPercent must be a percentage above 0 and at most 100 with at most "
                "three decimals.");
        }
        gray_milli = *p;
        job.gray_percent = cmd.gray_percent;
    } else if (!cmd.gray_percent.empty()) {
        return Invalid("GrayPercent needs TargetSelection GRAY.");
    }
    if (group) {
        if (cmd.group_id.empty()) {
            return MissingParam("GroupId");
        }
        if (cmd.group_type.empty()) {
            return MissingParam("GroupType");
        }
        if (cmd.group_type != "LINK_PLATFORM") {
            return Invalid("GroupType must be LINK_PLATFORM for a static batch.");
        }
    }
    if (specific) {
        const bool names = !cmd.target_device_names.empty();
        const bool file = !cmd.dn_list_file_url.empty();
        if (names == file) {
            return Invalid(
                "TargetSelection SPECIFIC needs either TargetDeviceName or "
                "DnListFileUrl, not both.");
        }
        if (cmd.target_device_names.size() > limits_.max_target_device_names) {
            return MakeError(ErrorCode::kTooManyTargetDevices,
                             "At most " + std::to_string(limits_.max_target_device_names) +
                                 " TargetDeviceName values are allowed in one call.");
        }
        std::set<std::string_view> seen;
        for (const std::string& n : cmd.target_device_names) {
            if (!seen.insert(n).second) {
                return Invalid("TargetDeviceName values must be unique.");
            }
        }
    }
    // Names from a device-list file (uploaded through GenerateDeviceNameListURL), read before
    // the transaction so that file I/O never holds the database.
    std::vector<std::string> listed_names;
    if (specific && !cmd.dn_list_file_url.empty()) {
        if (files_ == nullptr) {
            return Invalid("DnListFileUrl is not a device list file issued by this server.");
        }
        OTA_ASSIGN_OR_RETURN(listed_names, files_->ReadDeviceList(scope, cmd.dn_list_file_url));
        // Sorted, each name once: the store checks the product's devices against this list,
        // and the batch follows IotId order, not the file's.
        std::sort(listed_names.begin(), listed_names.end());
        listed_names.erase(std::unique(listed_names.begin(), listed_names.end()),
                           listed_names.end());
        listed_names.shrink_to_fit();
        if (listed_names.empty()) {
            return Invalid("The device list file names no device.");
        }
    }

    // Schedule window.
    if (cmd.schedule_ms) {
        if (*cmd.schedule_ms < now + 5 * kMinuteMs || *cmd.schedule_ms > now + 7 * kDayMs) {
            return Invalid("ScheduleTime must be between 5 minutes and 7 days from now.");
        }
        job.schedule_ms = *cmd.schedule_ms;
    }
    if (cmd.schedule_finish_ms) {
        const int64_t base = cmd.schedule_ms.value_or(now);
        if (*cmd.schedule_finish_ms <= base) {
            return MakeError(ErrorCode::kFromNotLessThanTo,
                             "ScheduleFinishTime must be later than ScheduleTime.");
        }
        if (*cmd.schedule_finish_ms < base + kHourMs ||
            *cmd.schedule_finish_ms > base + 30 * kDayMs) {
            return Invalid(
                "ScheduleFinishTime must be between 1 hour and 30 days after "
                "ScheduleTime (or after now when ScheduleTime is absent).");
        }
        job.schedule_finish_ms = *cmd.schedule_finish_ms;
    }

    OTA_TRY(store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, cmd.firmware_id));
        if (!firmware) {
            return MakeError(ErrorCode::kFirmwareNotFound);
        }
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, cmd.product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        if (firmware->product_key != cmd.product_key) {
            return MakeError(ErrorCode::kFirmwareProductMismatch);
        }
        if (firmware->need_to_verify && firmware->status != FirmwareStatus::kVerified) {
            return MakeError(ErrorCode::kFirmwareNotVerified);
        }
        if (firmware->type == 1 && !cmd.src_versions.empty()) {
            for (const std::string& v : cmd.src_versions) {
                if (v != firmware->src_version) {
                    return Invalid(
                        "For a differential package SrcVersion must equal the "
                        "package's SrcVersion.");
                }
            }
        }
        OTA_TRY(ApplyPolicy(cmd.policy, *firmware, job));
        std::optional<Group> target_group;
        if (group) {
            OTA_ASSIGN_OR_RETURN(target_group, tx.FindGroup(scope, cmd.group_id));
            if (!target_group || target_group->group_type != GroupType::kStatic) {
                return MakeError(ErrorCode::kGroupNotFound);
            }
            job.group_id = target_group->group_id;
            job.group_name = target_group->group_name;
        }

        job.job_status = job.schedule_ms != 0 ? JobStatus::kPlanned : JobStatus::kInProgress;
        job.start_ms = job.schedule_ms != 0 ? 0 : now;
        job.push_backlog = job.job_status == JobStatus::kInProgress && job.need_push;
        // The job goes in first (its tasks refer to it); when no device qualifies the call
        // fails and the transaction takes it back.
        OTA_TRY(tx.InsertJob(scope, job));

        // Tasks are planned device by device and written in slices.
        std::vector<Task> slice;
        int64_t planned = 0;
        auto plan = [&](const std::string& iot_id,
                        const std::string& product_key,
                        const std::string& device_name,
                        const std::string& current,
                        bool may_have_unfinished_task) -> Status {
            OTA_ASSIGN_OR_RETURN(Task t,
                                 PlanTaskFor(tx,
                                             scope,
                                             job,
                                             *firmware,
                                             iot_id,
                                             product_key,
                                             device_name,
                                             current,
                                             may_have_unfinished_task,
                                             now));
            if (slice.empty()) {
                slice.reserve(limits_.task_insert_slice);
            }
            slice.push_back(std::move(t));
            ++planned;
            if (slice.size() >= limits_.task_insert_slice) {
                OTA_TRY(tx.InsertTasks(scope, slice));
                slice.clear();
            }
            return Ok();
        };

        const bool whole_product = !group && (!specific || !listed_names.empty());
        if (whole_product) {
            // ALL, GRAY and device-list files: one pass over the product's devices in IotId
            // order, with each device's version and unfinished-task flag read in the same pass,
            // so that a batch of a million devices costs no lookup per device.
            if (!listed_names.empty()) {
                // A device-list file may name devices that do not exist (or no longer do):
                // they are left out rather than failing a batch of up to a million devices.
                OTA_ASSIGN_OR_RETURN(auto list_file,
                                     files_->ResolveUrl(tx, scope, cmd.dn_list_file_url));
                if (!list_file || list_file->kind != FileKind::kDeviceList) {
                    return MakeError(ErrorCode::kFileNotFound);
                }
                list_file->referenced = true;
                OTA_TRY(tx.UpdateFile(scope, *list_file));
            }
            const std::vector<std::string>* names = specific ? &listed_names : nullptr;
            // GRAY takes the first share of the qualifying devices: counted in a first pass.
            int64_t take = std::numeric_limits<int64_t>::max();
            if (job.target_selection == TargetSelection::kGray) {
                int64_t n = 0;
                OTA_TRY(tx.ForEachBatchCandidate(
                    scope,
                    cmd.product_key,
                    firmware->module_name,
                    names,
                    [&](const ReadTx::BatchCandidate& c) -> Status {
                        n += VersionQualifies(*firmware, job.src_versions, c.current_version);
                        return Ok();
                    }));
                take = std::max<int64_t>(1, n * gray_milli / 100'000);
            }
            OTA_TRY(tx.ForEachBatchCandidate(
                scope,
                cmd.product_key,
                firmware->module_name,
                names,
                [&](const ReadTx::BatchCandidate& c) -> Status {
                    if (planned >= take ||
                        !VersionQualifies(*firmware, job.src_versions, c.current_version)) {
                        return Ok();
                    }
                    return plan(c.iot_id,
                                c.product_key,
                                c.device_name,
                                c.current_version,
                                c.has_unfinished_task);
                }));
        } else {
            // Named devices (at most 200) and static groups, a lookup per device.
            std::vector<Device> candidates;
            if (specific) {
                for (const std::string& name : cmd.target_device_names) {
                    OTA_ASSIGN_OR_RETURN(auto device, tx.FindDevice(scope, cmd.product_key, name));
                    if (!device) {
                        return MakeError(ErrorCode::kDeviceNotFound,
                                         "The device " + name + " does not exist in the product.");
                    }
                    candidates.push_back(std::move(*device));
                }
            } else {
                // The group's members that belong to the package's product.
                OTA_TRY(
                    ForEachGroupDevice(tx, scope, *target_group, [&](const Device& d) -> Status {
                        if (d.product_key == cmd.product_key) {
                            candidates.push_back(d);
                        }
                        return Ok();
                    }));
            }
            for (const Device& d : candidates) {
                OTA_ASSIGN_OR_RETURN(std::string current,
                                     CurrentVersion(tx, scope, d, firmware->module_name));
                if (VersionQualifies(*firmware, job.src_versions, current)) {
                    OTA_TRY(plan(d.iot_id, d.product_key, d.device_name, current, true));
                }
            }
        }
        if (planned == 0) {
            return MakeError(ErrorCode::kNoDeviceToUpgrade);
        }
        if (!slice.empty()) {
            OTA_TRY(tx.InsertTasks(scope, slice));
        }
        if (job.job_status == JobStatus::kInProgress) {
            // Every device may have been blocked by another batch: then nothing is left to do.
            OTA_TRY(SettleJob(tx, scope, job.job_id, now));
            OTA_ASSIGN_OR_RETURN(auto settled, tx.FindJob(scope, job.job_id));
            job = std::move(*settled);
        }
        return Ok();
    }));
    return job;
}

Result<Page<Job>> Services::ListJobsByDevice(const Scope& scope, const ListJobsByDeviceQuery& q) {
    OTA_TRY(CheckPage(q.current_page, q.page_size, 100));
    return ReadOne<Page<Job>>(store_, [&](ReadTx& tx) -> Result<Page<Job>> {
        // The hot path of the API: existence checks only, in one statement.
        OTA_ASSIGN_OR_RETURN(
            ReadTx::DevicePackageRefs refs,
            tx.ResolveDevicePackage(scope, q.product_key, q.device_name, q.firmware_id));
        if (!refs.product_exists) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        if (refs.iot_id.empty()) {
            return MakeError(ErrorCode::kDeviceNotFound);
        }
        if (!refs.firmware_exists) {
            return MakeError(ErrorCode::kFirmwareNotFound);
        }
        return tx.ListJobsByDevice(
            scope, refs.iot_id, q.firmware_id, (q.current_page - 1) * q.page_size, q.page_size);
    });
}

}  // namespace otad::domain

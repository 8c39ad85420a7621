// OTA modules of a product and the module versions devices report.

#include "common/text.hpp"
#include "domain/service_helpers.hpp"
#include "domain/services.hpp"
#include "domain/validation.hpp"

namespace otad::domain {

using namespace detail;

namespace {

constexpr std::string_view kDefaultModule = "default";
constexpr size_t kMaxCustomModulesPerProduct = 10;
constexpr size_t kMaxModuleNameChars = 64;
constexpr size_t kMaxAliasChars = 64;
constexpr size_t kMaxModuleDescChars = 100;
constexpr int64_t kMaxModuleVersionPageSize = 200;

bool IsDefaultModule(std::string_view name) {
    if (name.size() != kDefaultModule.size()) {
        return false;
    }
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i] >= 'A' && name[i] <= 'Z' ? static_cast<char>(name[i] + 32) : name[i];
        if (c != kDefaultModule[i]) {
            return false;
        }
    }
    return true;
}

// 1-64 characters of [A-Za-z0-9._-].
Status ValidateModuleName(std::string_view name) {
    if (name.empty() || name.size() > kMaxModuleNameChars) {
        return MakeError(ErrorCode::kInvalidModuleName);
    }
    for (char c : name) {
        if (!text::IsAsciiAlnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' &&
            c != '-') {
            return MakeError(ErrorCode::kInvalidModuleName);
        }
    }
    return Ok();
}

// 1-64 characters of letters of any script, digits, '.', '_' and '-'.
Status ValidateAlias(std::string_view alias) {
    size_t pos = 0;
    size_t n = 0;
    while (pos < alias.size()) {
        const auto c = text::NextCodePoint(alias, pos);
        if (!c || !(text::IsLetter(*c) || text::IsAsciiDigit(*c) || *c == '.' || *c == '_' ||
                    *c == '-')) {
            return Invalid("AliasName may contain only letters, digits, '.', '_' and '-'.");
        }
        ++n;
    }
    if (n < 1 || n > kMaxAliasChars) {
        return Invalid("AliasName must be 1 to 64 characters.");
    }
    return Ok();
}

// The stored custom module, after the product check; kModuleNotFound when absent.
Result<Module> FindCustomModule(ReadTx& tx,
                                const Scope& scope,
                                std::string_view product_key,
                                std::string_view module_name) {
    OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, product_key));
    if (!product) {
        return MakeError(ErrorCode::kProductNotFound);
    }
    OTA_ASSIGN_OR_RETURN(auto module, tx.FindModule(scope, product_key, module_name));
    if (!module) {
        return MakeError(ErrorCode::kModuleNotFound);
    }
    return std::move(*module);
}

}  // namespace

Status Services::CreateModule(const Scope& scope, const CreateModuleCommand& cmd) {
    OTA_TRY(ValidateModuleName(cmd.module_name));
    if (!cmd.alias_name.empty()) {
        OTA_TRY(ValidateAlias(cmd.alias_name));
    }
    OTA_TRY(ValidateTextLength(cmd.desc, kMaxModuleDescChars, "Desc"));
    Module m;
    m.product_key = cmd.product_key;
    m.module_name = cmd.module_name;
    m.alias_name = cmd.alias_name;
    m.desc = cmd.desc;
    m.created_ms = clock_.NowMs();
    m.modified_ms = m.created_ms;
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, cmd.product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        // Every product has the implicit `default` module, so that name is always taken.
        if (IsDefaultModule(m.module_name)) {
            return MakeError(ErrorCode::kModuleNameExists);
        }
        OTA_ASSIGN_OR_RETURN(auto existing, tx.FindModule(scope, m.product_key, m.module_name));
        if (existing) {
            return MakeError(ErrorCode::kModuleNameExists);
        }
        OTA_ASSIGN_OR_RETURN(auto modules, tx.ListModules(scope, m.product_key));
        if (modules.size() >= kMaxCustomModulesPerProduct) {
            return MakeError(ErrorCode::kModuleQuotaExceeded);
        }
        return tx.InsertModule(scope, m);
    });
}

Status Services::UpdateModule(const Scope& scope, const UpdateModuleCommand& cmd) {
    if (IsDefaultModule(cmd.module_name)) {
        return MakeError(ErrorCode::kInvalidModuleName, "The default module cannot be changed.");
    }
    if (cmd.alias_name && !cmd.alias_name->empty()) {
        OTA_TRY(ValidateAlias(*cmd.alias_name));
    }
    if (cmd.desc) {
        OTA_TRY(ValidateTextLength(*cmd.desc, kMaxModuleDescChars, "Desc"));
    }
    const int64_t now = clock_.NowMs();
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(Module m,
                             FindCustomModule(tx, scope, cmd.product_key, cmd.module_name));
        if (cmd.alias_name) {
            m.alias_name = *cmd.alias_name;
        }
        if (cmd.desc) {
            m.desc = *cmd.desc;
        }
        m.modified_ms = now;
        return tx.UpdateModule(scope, m);
    });
}

Status Services::DeleteModule(const Scope& scope,
                              std::string_view product_key,
                              std::string_view module_name) {
    if (IsDefaultModule(module_name)) {
        return MakeError(ErrorCode::kInvalidModuleName, "The default module cannot be deleted.");
    }
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(const Module m, FindCustomModule(tx, scope, product_key, module_name));
        OTA_ASSIGN_OR_RETURN(int64_t packages,
                             tx.CountFirmwareOfModule(scope, product_key, m.module_name));
        if (packages > 0) {
            return MakeError(ErrorCode::kModuleHasFirmware);
        }
        return tx.DeleteModule(scope, product_key, m.module_name);
    });
}

Result<std::vector<Module>> Services::ListModules(const Scope& scope,
                                                  std::string_view product_key) {
    return ReadOne<std::vector<Module>>(store_, [&](ReadTx& tx) -> Result<std::vector<Module>> {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        OTA_ASSIGN_OR_RETURN(auto custom, tx.ListModules(scope, product_key));
        std::vector<Module> out;
        out.reserve(custom.size() + 1);
        // The implicit module exists as long as the product does.
        Module def;
        def.product_key = product->product_key;
        def.module_name = std::string(kDefaultModule);
        def.alias_name = std::string(kDefaultModule);
        def.created_ms = product->created_ms;
        def.modified_ms = product->created_ms;
        out.push_back(std::move(def));
        for (Module& m : custom) {
            out.push_back(std::move(m));
        }
        return out;
    });
}

Result<Page<ModuleVersion>> Services::ListModuleVersions(const Scope& scope,
                                                         const DeviceRef& device,
                                                         int64_t current_page,
                                                         int64_t page_size) {
    OTA_TRY(CheckPage(current_page, page_size, kMaxModuleVersionPageSize));
    return ReadOne<Page<ModuleVersion>>(store_, [&](ReadTx& tx) -> Result<Page<ModuleVersion>> {
        OTA_ASSIGN_OR_RETURN(const Device d, FindDeviceRef(tx, scope, device));
        return tx.ListModuleVersions(scope, d.iot_id, (current_page - 1) * page_size, page_size);
    });
}

}  // namespace otad::domain

#include "storage/sqlite/sqlite_store.hpp"
#include "store_conformance.hpp"
#include "temp_dir.hpp"

#include <memory>

namespace otad::conformance {
namespace {

class SqliteEnv final : public BackendEnv {
  public:
    Result<std::unique_ptr<domain::Store>> Open() override {
        if (dir_.path().empty()) {
            return InternalError("could not create a temporary directory");
        }
        storage::sqlite::SqliteOptions options;
        options.path = (dir_.path() / "otad.db").string();
        return storage::sqlite::OpenSqliteStore(options);
    }

  private:
    TempDir dir_;
};

}  // namespace

Backend SqliteBackend() {
    return Backend{"sqlite",
                   []() -> std::unique_ptr<BackendEnv> { return std::make_unique<SqliteEnv>(); },
                   {}};
}

}  // namespace otad::conformance

#include "storage/sql/statement.hpp"

namespace otad::storage::sql {

Status Statement::Run() {
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, impl_->Step());
        if (!row) {
            return Ok();
        }
    }
}

}  // namespace otad::storage::sql

#include "common/error.hpp"

namespace otad {

std::string_view ErrorCodeName(ErrorCode code) {
    switch (code) {
#define OTAD_X(name, desc) \
    case ErrorCode::name:  \
        return #name;
        OTAD_ERROR_CODES(OTAD_X)
#undef OTAD_X
    }
    return "kUnknown";
}

}  // namespace otad

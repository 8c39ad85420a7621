#pragma once

#include "common/testing/temp_dir.hpp"

namespace otad::conformance {

using test_support::TempDir;

}  // namespace otad::conformance

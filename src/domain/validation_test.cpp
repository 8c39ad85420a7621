#include "domain/validation.hpp"

#include <gtest/gtest.h>

namespace otad::domain {
namespace {

ErrorCode CodeOf(const Status& s) {
    return s.ok() ? ErrorCode::kInternal : s.error().code;
}

TEST(Validation, ProductNames) {
    EXPECT_TRUE(ValidateProductName("abcd").ok());
    EXPECT_TRUE(ValidateProductName("温度计").ok());  // 3 wide characters count 6
    EXPECT_TRUE(ValidateProductName("my_prod-1(a)@x").ok());
    EXPECT_EQ(CodeOf(ValidateProductName("")), ErrorCode::kNullProductName);
    EXPECT_EQ(CodeOf(ValidateProductName("abc")), ErrorCode::kInvalidProductName);
    EXPECT_EQ(CodeOf(ValidateProductName("温")), ErrorCode::kInvalidProductName);
    EXPECT_EQ(CodeOf(ValidateProductName(std::string(31, 'a'))), ErrorCode::kInvalidProductName);
    EXPECT_EQ(CodeOf(ValidateProductName("温度计温度计温度计温度计温度计温")),
              ErrorCode::kInvalidProductName);
    EXPECT_EQ(CodeOf(ValidateProductName("has space")), ErrorCode::kInvalidProductName);
}

TEST(Validation, DeviceNames) {
    EXPECT_TRUE(ValidateDeviceName("dev-01_a@b.c:d").ok());
    EXPECT_EQ(CodeOf(ValidateDeviceName("abc")), ErrorCode::kInvalidDeviceName);
    EXPECT_EQ(CodeOf(ValidateDeviceName(std::string(33, 'a'))), ErrorCode::kInvalidDeviceName);
    EXPECT_EQ(CodeOf(ValidateDeviceName("dev 01")), ErrorCode::kInvalidDeviceName);
    EXPECT_EQ(CodeOf(ValidateDeviceName("温度计01")), ErrorCode::kInvalidDeviceName);
}

TEST(Validation, FirmwareNamesAndVersions) {
    EXPECT_TRUE(ValidateFirmwareName("fw-1.0").ok() == false);  // '.' is not allowed
    EXPECT_TRUE(ValidateFirmwareName("fw_1(beta)").ok());
    EXPECT_TRUE(ValidateFirmwareName("固件1").ok());
    EXPECT_EQ(CodeOf(ValidateFirmwareName("-fw")), ErrorCode::kInvalidFirmwareName);
    EXPECT_EQ(CodeOf(ValidateFirmwareName(std::string(41, 'a'))), ErrorCode::kInvalidFirmwareName);
    EXPECT_TRUE(ValidateVersion("1.0.0-rc_1", "DestVersion").ok());
    EXPECT_EQ(CodeOf(ValidateVersion("", "DestVersion")), ErrorCode::kInvalidVersionString);
    EXPECT_EQ(CodeOf(ValidateVersion("1 0", "DestVersion")), ErrorCode::kInvalidVersionString);
    EXPECT_EQ(CodeOf(ValidateVersion(std::string(65, '1'), "DestVersion")),
              ErrorCode::kInvalidVersionString);
}

TEST(Validation, Tags) {
    EXPECT_TRUE(ValidateTags({{"env", "prod"}, {"k.2", "v 2"}}).ok());
    EXPECT_FALSE(ValidateTags({{"", "v"}}).ok());
    EXPECT_FALSE(ValidateTags({{"k", ""}}).ok());
    EXPECT_FALSE(ValidateTags({{"bad-key", "v"}}).ok());
    EXPECT_FALSE(ValidateTags({{"k", "v"}, {"k", "w"}}).ok());
    std::vector<Tag> eleven;
    for (int i = 0; i < 11; ++i) {
        eleven.push_back({"k" + std::to_string(i), "v"});
    }
    EXPECT_FALSE(ValidateTags(eleven).ok());
    EXPECT_FALSE(ValidateTags({{"k", std::string(1025, 'v')}}).ok());
    std::vector<Tag> big;
    for (int i = 0; i < 5; ++i) {
        big.push_back({"k" + std::to_string(i), std::string(1000, 'v')});
    }
    EXPECT_FALSE(ValidateTags(big).ok());
}

}  // namespace
}  // namespace otad::domain

#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace otad::files {

/// MD5 and SHA-256 of a byte stream, computed as it passes through.
class Digests {
  public:
    Digests();
    ~Digests();
    Digests(const Digests&) = delete;
    Digests& operator=(const Digests&) = delete;

    void Update(std::string_view data);
    /// Ends the computation; call once, after the last Update.
    void Finish();

    uint64_t size() const { return size_; }
    /// Lower-case hex; empty before Finish().
    const std::string& md5() const { return md5_; }
    const std::string& sha256() const { return sha256_; }

  private:
    struct State;
    std::unique_ptr<State> state_;
    uint64_t size_ = 0;
    std::string md5_;
    std::string sha256_;
};

}  // namespace otad::files

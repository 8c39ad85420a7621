#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <string>

namespace otad::files {

struct FilesCopyReport {
    /// The source has a secret (FROM/secret).
    bool secret_found = false;
    /// The secret was written to the target; false when the target had the same one already.
    bool secret_copied = false;
    int64_t blobs_copied = 0;
    uint64_t bytes_copied = 0;
    /// Blobs the target had already, with the same size: left as they were.
    int64_t blobs_present = 0;
};

/// Copies what the nodes of one deployment must share from a files directory into another
/// (e.g. from DATA/files into the directory that `files.dir` names for every node): the secret
/// that signs upload forms and download URLs, `FROM/secret` to `TO/secret`, and every blob,
/// `FROM/blobs/aa/<sha256>` to `TO/blobs/aa/<sha256>`. Upload spools are not copied.
///
/// - A blob the target has with the same size is skipped. Any other is copied to a private
///   file next to its place, flushed to disk, read back and checked: its SHA-256 must be its
///   name. Only then is it renamed into place (and the directory flushed), so a blob path in
///   the target never shows a partial or damaged file.
/// - The secret is written whole to a private file and hard-linked into place (as a node
///   creates it). A target whose secret differs is refused: nodes must share one secret.
/// - Files of the source that are not blobs (other names) are left out.
///
/// Safe to run again: what was copied is skipped. Fails with kInternal, with the path concerned
/// in Error::message (never file contents), on an I/O error, a blob whose content does not
/// match its name, a different secret in the target, or when both directories are the same.
Result<FilesCopyReport> CopyFilesDirectory(const std::string& from, const std::string& to);

}  // namespace otad::files

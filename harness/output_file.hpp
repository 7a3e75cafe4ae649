// The result files (--out, --csv): checked when the command line is read, written atomically.
#pragma once

#include <string>
#include <string_view>

namespace ipcperf {

// A path an output may be written to: a regular file or a new name, in a directory we can write.
// A FIFO (opening it would wait for a reader), a directory or a device is refused. Throws
// UsageError naming `option`.
void check_output_path(const std::string& path, std::string_view option);

// Writes `content` to a temporary file next to `path` (same directory, so the rename stays in one
// file system), fsyncs it and renames it over `path`: a reader sees the old file or the whole new
// one, never a truncated one, and a failure (full disk, EFBIG, EIO) leaves the old file as it was.
// A symbolic link at `path` is replaced, not followed. Mode 0666 less the umask, like a new file.
// Returns "" on success, else what failed and why ("write: No space left on device").
[[nodiscard]] std::string write_file_atomically(const std::string& path, std::string_view content);

}  // namespace ipcperf

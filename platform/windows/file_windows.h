// Windows file services behind Platform (docs/cache.md): UTF-16 paths throughout, owner-only
// ACLs on what is created, MoveFileExW for the atomic replace, LockFileEx for the writers' lock.
// WindowsPlatform delegates its file methods here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "licagent/result.h"
#include "platform/platform.h"

namespace licagent::platform::windows_impl {

// kStateDirEnv, else user: FOLDERID_LocalAppData\licagent (%LOCALAPPDATA%), system:
// FOLDERID_ProgramData\licagent (%ProgramData%), from SHGetKnownFolderPath.
Result<std::filesystem::path> StateDir(StateScope scope);

// The security descriptor (SDDL) given to what this code creates in `dir`: MachineWideSddl in
// FOLDERID_ProgramData\licagent and below (the machine-wide cache, whatever kStateDirEnv says),
// else OwnerOnlySddl. `container` adds inheritance (OICI) for directories.
Result<std::wstring> SddlFor(const std::filesystem::path& dir, bool container);

// A protected DACL with one ACE, full control for the process token's user.
// E.g. "D:P(A;OICI;FA;;;S-1-5-21-...-1001)".
Result<std::wstring> OwnerOnlySddl(bool container);

// A protected DACL: full control for SYSTEM and Administrators, read and execute for Users.
std::wstring MachineWideSddl(bool container);

// The Platform file methods (see platform.h for their contracts).
Result<std::string> ReadFile(const std::filesystem::path& path, std::size_t max_size);
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents);
Status RemoveFile(const std::filesystem::path& path);
Result<std::size_t> RemoveStaleTempFiles(const std::filesystem::path& target,
                                         std::int64_t min_age_seconds);
Result<std::unique_ptr<FileLock>> LockExclusive(const std::filesystem::path& lock_file);
std::int64_t Now();

}  // namespace licagent::platform::windows_impl

// Bearer tokens: 256-bit random secrets with a role prefix, kept by the
// server only as SHA-256 digests and compared in constant time.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace rackscale::ctl {

enum class Role : uint8_t { kNone, kAdmin, kTenant, kAgent };
const char* RoleName(Role r);
bool ParseRole(std::string_view s, Role* out);

// "rsa_" (admin), "rst_" (tenant) or "rsg_" (agent) and 64 hex digits of
// 32 bytes from the OS's CSPRNG (OpenSSL RAND_bytes). Fails only if the
// CSPRNG does.
Result<std::string> NewToken(Role role);
// The hex SHA-256 of a presented token.
std::string HashToken(std::string_view token);
// Equal length and bytes, in time that does not depend on where they differ.
bool ConstantTimeEqual(std::string_view a, std::string_view b);
// A token's shape (prefix and 64 hex digits) without looking it up.
bool WellFormedToken(std::string_view token);

}  // namespace rackscale::ctl

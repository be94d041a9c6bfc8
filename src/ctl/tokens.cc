#include "ctl/tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

namespace rackscale::ctl {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string Hex(const unsigned char* p, size_t n) {
  std::string s(2 * n, '0');
  for (size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[p[i] >> 4];
    s[2 * i + 1] = kHex[p[i] & 15];
  }
  return s;
}

const char* Prefix(Role r) {
  switch (r) {
    case Role::kAdmin: return "rsa_";
    case Role::kTenant: return "rst_";
    case Role::kAgent: return "rsg_";
    default: return "";
  }
}

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kAdmin: return "admin";
    case Role::kTenant: return "tenant";
    case Role::kAgent: return "agent";
    default: return "none";
  }
}

bool ParseRole(std::string_view s, Role* out) {
  if (s == "admin") *out = Role::kAdmin;
  else if (s == "tenant") *out = Role::kTenant;
  else if (s == "agent") *out = Role::kAgent;
  else return false;
  return true;
}

Result<std::string> NewToken(Role role) {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Error::Io("RAND_bytes", "the CSPRNG failed");
  std::string t = Prefix(role) + Hex(bytes, sizeof bytes);
  OPENSSL_cleanse(bytes, sizeof bytes);
  return t;
}

std::string HashToken(std::string_view token) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), md);
  return Hex(md, sizeof md);
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool WellFormedToken(std::string_view t) {
  if (t.size() != 68 || t[0] != 'r' || t[1] != 's' || t[3] != '_') return false;
  if (t[2] != 'a' && t[2] != 't' && t[2] != 'g') return false;
  for (size_t i = 4; i < t.size(); ++i) {
    char c = t[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace rackscale::ctl

/* A product's start-up check through the C ABI (include/licagent/licagent.h), built against the
 * installed development package with CMake or pkg-config. Usage: consumer_c [FEATURE...].
 * Prints "VERSION VERDICT REASON" and exits 0 when the license is valid, 1 when not. */
#include <licagent/licagent.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char** argv) {
  licagent_result result;
  memset(&result, 0, sizeof result);
  result.struct_size = sizeof result;
  const int verdict = licagent_check(NULL, (const char* const*)(argv + 1),
                                     (size_t)(argc > 1 ? argc - 1 : 0), &result);
  printf("%s %s %s\n", licagent_version(), licagent_verdict_name(verdict), result.reason);
  return verdict == LICAGENT_VALID ? 0 : 1;
}

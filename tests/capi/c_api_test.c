/* The C ABI from a C program (compiled as C11, linked to the shared library).
 * Usage: c_api_test STORE_DIR [LICENSE_FILE EXPECTED_VERDICT_NAME]
 * Without a license file: checks an empty store (no-license), rejects junk (invalid) and the
 * verdict names. With one: installs it and checks, expecting the named verdict. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "licagent/licagent.h"

static int failures = 0;
#define EXPECT(cond)                                                         \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "c_api_test: FAILED %s (line %d)\n", #cond, __LINE__); \
      ++failures;                                                            \
    }                                                                        \
  } while (0)

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    fprintf(stderr, "usage: %s STORE_DIR [LICENSE_FILE EXPECTED_VERDICT]\n", argv[0]);
    return 2;
  }
  const char* store = argv[1];
  licagent_result r;
  memset(&r, 0, sizeof r);
  r.struct_size = sizeof r;

  if (argc == 2) {
    EXPECT(licagent_check(store, NULL, 0, &r) == LICAGENT_NO_LICENSE);
    EXPECT(r.verdict == LICAGENT_NO_LICENSE);
    EXPECT(strstr(r.reason, "no license") != NULL);
    EXPECT(licagent_check(store, NULL, 0, NULL) == LICAGENT_NO_LICENSE);
    const char junk[] = "not a license";
    EXPECT(licagent_install(store, junk, sizeof junk - 1, &r) == LICAGENT_INVALID);
    EXPECT(licagent_install(store, NULL, 0, &r) == LICAGENT_SYSTEM_ERROR);
    EXPECT(licagent_check(store, NULL, 0, &r) == LICAGENT_NO_LICENSE);
    EXPECT(strcmp(licagent_verdict_name(LICAGENT_VALID), "valid") == 0);
    EXPECT(strcmp(licagent_verdict_name(LICAGENT_WRONG_MACHINE), "wrong-machine") == 0);
    EXPECT(strcmp(licagent_verdict_name(99), "unknown") == 0);
    EXPECT(strcmp(licagent_verdict_name(-1), "unknown") == 0);
    EXPECT(strlen(licagent_version()) > 0);
    EXPECT(r.error_message[0] == '\0' && r.server_code[0] == '\0');
    /* The online calls refuse an options struct of a size this library does not know before
     * anything else (tests/capi/c_api_online_test.c has the rest, with a server). */
    {
      licagent_online_options o;
      memset(&o, 0, sizeof o);
      o.struct_size = 8;
      EXPECT(licagent_refresh(store, &o, &r) == LICAGENT_ONLINE_INVALID_ARGUMENT);
      EXPECT(r.verdict == LICAGENT_NO_LICENSE);
      EXPECT(strstr(r.error_message, "struct_size") != NULL);
      EXPECT(strcmp(licagent_online_status_name(LICAGENT_ONLINE_UNTRUSTED), "untrusted") == 0);
    }
    /* A caller compiled against a smaller struct gets the verdict, and nothing is written. */
    r.struct_size = 4;
    r.reason[0] = 'x';
    EXPECT(licagent_check(store, NULL, 0, &r) == LICAGENT_NO_LICENSE);
    EXPECT(r.reason[0] == 'x');
  } else {
    FILE* f = fopen(argv[2], "rb");
    if (f == NULL) {
      perror(argv[2]);
      return 2;
    }
    static char text[65 * 1024];
    const size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    const int installed = licagent_install(store, text, n, &r);
    const int checked = licagent_check(store, NULL, 0, &r);
    printf("install: %s; check: %s: %s\n", licagent_verdict_name(installed),
           licagent_verdict_name(checked), r.reason);
    EXPECT(strcmp(licagent_verdict_name(checked), argv[3]) == 0);
    if (checked == LICAGENT_VALID) EXPECT(strlen(r.license_id) > 0);
  }
  if (failures == 0) printf("c_api_test: ok\n");
  return failures == 0 ? 0 : 1;
}

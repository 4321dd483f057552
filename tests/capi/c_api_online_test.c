/* The C ABI's online calls from a C program (compiled as C11, linked to the shared library),
 * against a real licagent-server over TLS started by capi_online_test.sh.
 * Usage: c_api_online_test STORE_DIR SERVER_URL CA_BUNDLE PIN DOWN_URL OTHER_CA
 * The license key comes in $CAPI_TEST_KEY (one seat); $LICAGENT_SERVER_URL and
 * $LICAGENT_CA_BUNDLE name the same server, for the calls that pass NULL options. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "licagent/licagent.h"

static int failures = 0;
#define EXPECT(cond)                                                                \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      fprintf(stderr, "c_api_online_test: FAILED %s (line %d)\n", #cond, __LINE__); \
      ++failures;                                                                   \
    }                                                                               \
  } while (0)

/* A syntactically valid pin of a key nobody has. */
static const char kWrongPin[] = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
static const char kUnknownKey[] = "LK-00000-00000-00000-00000-00000";

/* licagent_result as the first release declared it: a caller compiled against that. */
typedef struct {
  uint32_t struct_size;
  int32_t verdict;
  char reason[512];
  char license_id[72];
  int32_t has_expiry;
  int64_t expires_at;
  int64_t seconds_left;
  int32_t has_refresh_by;
  int64_t grace_seconds_left;
  int32_t match_score;
  int32_t match_possible;
  int32_t refresh_due;
} result_v1;

static const char* key;

static void reset(licagent_result* r) {
  memset(r, 0x5a, sizeof *r); /* garbage: every field the call sets must be written */
  r->struct_size = sizeof *r;
}

static void reset_options(licagent_online_options* o) {
  memset(o, 0, sizeof *o);
  o->struct_size = sizeof *o;
}

/* Prints the outcome of a call; checks that no message holds the license key. */
static int show(const char* what, int status, const licagent_result* r) {
  printf("%s: %s (%d); verdict %s: %s; error: %s; server code: %s\n", what,
         licagent_online_status_name(status), status, licagent_verdict_name(r->verdict), r->reason,
         r->error_message, r->server_code);
  EXPECT(strstr(r->reason, key) == NULL);
  EXPECT(strstr(r->error_message, key) == NULL);
  EXPECT(memchr(r->error_message, '\0', sizeof r->error_message) != NULL);
  EXPECT(memchr(r->server_code, '\0', sizeof r->server_code) != NULL);
  return status;
}

static int check_verdict(const char* store, licagent_result* r) {
  reset(r);
  return licagent_check(store, NULL, 0, r);
}

int main(int argc, char** argv) {
  if (argc != 7 || getenv("CAPI_TEST_KEY") == NULL) {
    fprintf(stderr, "usage: CAPI_TEST_KEY=LK-... %s STORE SERVER_URL CA PIN DOWN_URL OTHER_CA\n",
            argv[0]);
    return 2;
  }
  const char* store = argv[1];
  const char* server = argv[2];
  const char* ca = argv[3];
  const char* pin = argv[4];
  const char* down = argv[5];
  const char* other_ca = argv[6];
  key = getenv("CAPI_TEST_KEY");
  licagent_result r;
  licagent_online_options o;
  char license_id[sizeof r.license_id];

  /* Bad arguments: nothing is sent, the (empty) cache is checked. */
  reset_options(&o);
  o.struct_size = sizeof o - 1;
  reset(&r);
  EXPECT(show("short options", licagent_activate(store, key, &o, &r), &r) ==
         LICAGENT_ONLINE_INVALID_ARGUMENT);
  EXPECT(strstr(r.error_message, "struct_size") != NULL);
  EXPECT(r.verdict == LICAGENT_NO_LICENSE);
  EXPECT(r.server_code[0] == '\0');
  o.struct_size = sizeof o + 8;
  EXPECT(licagent_refresh(store, &o, &r) == LICAGENT_ONLINE_INVALID_ARGUMENT);
  EXPECT(licagent_deactivate(store, &o, NULL) == LICAGENT_ONLINE_INVALID_ARGUMENT);
  reset_options(&o);
  o.timeout_ms = -1;
  EXPECT(licagent_activate(store, key, &o, &r) == LICAGENT_ONLINE_INVALID_ARGUMENT);
  reset_options(&o);
  o.server_url = "http://127.0.0.1:1";
  EXPECT(show("http URL", licagent_activate(store, key, &o, &r), &r) ==
         LICAGENT_ONLINE_INVALID_ARGUMENT);
  EXPECT(strstr(r.error_message, "https://") != NULL);
  EXPECT(show("no credential", licagent_activate(store, NULL, NULL, &r), &r) ==
         LICAGENT_ONLINE_INVALID_ARGUMENT);
  EXPECT(licagent_activate(store, "", NULL, &r) == LICAGENT_ONLINE_INVALID_ARGUMENT);

  /* Nothing installed: refresh and deactivate say so without asking the server. */
  reset(&r);
  EXPECT(show("refresh, empty", licagent_refresh(store, NULL, &r), &r) ==
         LICAGENT_ONLINE_NO_LICENSE);
  EXPECT(r.verdict == LICAGENT_NO_LICENSE);
  EXPECT(licagent_deactivate(store, NULL, &r) == LICAGENT_ONLINE_NO_LICENSE);

  /* The server down (an explicit URL wins over $LICAGENT_SERVER_URL): unavailable, bounded by
   * the timeout, nothing installed. */
  reset_options(&o);
  o.server_url = down;
  o.timeout_ms = 3000;
  reset(&r);
  EXPECT(show("server down", licagent_activate(store, key, &o, &r), &r) ==
         LICAGENT_ONLINE_UNAVAILABLE);
  EXPECT(strstr(r.error_message, down) != NULL);
  EXPECT(r.verdict == LICAGENT_NO_LICENSE);

  /* A wrong pin, a CA that did not sign the server: untrusted, nothing installed. */
  reset_options(&o);
  o.server_url = server;
  o.ca_bundle = ca;
  o.pinned_public_key = kWrongPin;
  reset(&r);
  EXPECT(show("wrong pin", licagent_activate(store, key, &o, &r), &r) == LICAGENT_ONLINE_UNTRUSTED);
  EXPECT(r.verdict == LICAGENT_NO_LICENSE);
  reset_options(&o);
  o.ca_bundle = other_ca;
  reset(&r);
  EXPECT(show("other CA", licagent_activate(store, key, &o, &r), &r) == LICAGENT_ONLINE_UNTRUSTED);
  EXPECT(check_verdict(store, &r) == LICAGENT_NO_LICENSE);

  /* An unknown key: refused with the server's code. */
  reset(&r);
  EXPECT(show("unknown key", licagent_activate(store, kUnknownKey, NULL, &r), &r) ==
         LICAGENT_ONLINE_REFUSED);
  EXPECT(strcmp(r.server_code, "unknown_credential") == 0);
  EXPECT(r.verdict == LICAGENT_NO_LICENSE);

  /* Activate with every option given (the right CA and pin), check, refresh, deactivate. */
  reset_options(&o);
  o.server_url = server;
  o.ca_bundle = ca;
  o.pinned_public_key = pin;
  o.proxy = "none";
  o.timeout_ms = 30000;
  reset(&r);
  EXPECT(show("activate", licagent_activate(store, key, &o, &r), &r) == LICAGENT_ONLINE_OK);
  EXPECT(r.struct_size == sizeof r);
  EXPECT(r.verdict == LICAGENT_VALID);
  EXPECT(strncmp(r.license_id, "lic-", 4) == 0);
  EXPECT(r.has_refresh_by == 1);
  EXPECT(r.seats == 1 && r.seats_used == 1);
  EXPECT(r.error_message[0] == '\0' && r.server_code[0] == '\0');
  memcpy(license_id, r.license_id, sizeof license_id);

  EXPECT(check_verdict(store, &r) == LICAGENT_VALID);
  EXPECT(strcmp(r.license_id, license_id) == 0);
  EXPECT(r.error_message[0] == '\0');

  /* A caller compiled against the first licagent_result gets its fields, and nothing past. */
  {
    union {
      result_v1 v1;
      unsigned char bytes[sizeof(licagent_result)];
    } old;
    size_t i;
    int untouched = 1;
    memset(&old, 0xa5, sizeof old);
    old.v1.struct_size = sizeof old.v1;
    EXPECT(licagent_check(store, NULL, 0, (licagent_result*)&old) == LICAGENT_VALID);
    EXPECT(old.v1.struct_size == sizeof old.v1);
    EXPECT(old.v1.verdict == LICAGENT_VALID);
    EXPECT(strcmp(old.v1.license_id, license_id) == 0);
    for (i = sizeof old.v1; i < sizeof old; ++i) untouched = untouched && old.bytes[i] == 0xa5;
    EXPECT(untouched);
  }

  /* The server down during a refresh: unavailable, the license stays valid. */
  reset_options(&o);
  o.server_url = down;
  o.timeout_ms = 3000;
  reset(&r);
  EXPECT(show("refresh, down", licagent_refresh(store, &o, &r), &r) == LICAGENT_ONLINE_UNAVAILABLE);
  EXPECT(r.verdict == LICAGENT_VALID);
  EXPECT(strcmp(r.license_id, license_id) == 0);

  /* NULL options: the server from $LICAGENT_SERVER_URL and $LICAGENT_CA_BUNDLE. */
  reset(&r);
  EXPECT(show("refresh", licagent_refresh(store, NULL, &r), &r) == LICAGENT_ONLINE_OK);
  EXPECT(r.verdict == LICAGENT_VALID);
  EXPECT(strcmp(r.license_id, license_id) == 0);
  EXPECT(r.seats == 1 && r.seats_used == 1);

  /* A wrong pin on deactivate: untrusted, the license stays. */
  reset_options(&o);
  o.pinned_public_key = kWrongPin;
  reset(&r);
  EXPECT(show("deactivate, wrong pin", licagent_deactivate(store, &o, &r), &r) ==
         LICAGENT_ONLINE_UNTRUSTED);
  EXPECT(r.verdict == LICAGENT_VALID);

  reset(&r);
  EXPECT(show("deactivate", licagent_deactivate(store, NULL, &r), &r) == LICAGENT_ONLINE_OK);
  EXPECT(r.verdict == LICAGENT_RELEASED);
  EXPECT(strcmp(r.license_id, license_id) == 0);
  EXPECT(r.error_message[0] == '\0');
  EXPECT(check_verdict(store, &r) == LICAGENT_NO_LICENSE);
  EXPECT(licagent_deactivate(store, NULL, &r) == LICAGENT_ONLINE_NO_LICENSE);

  /* The seat was given back: the one-seat key activates again (NULL result is allowed). */
  EXPECT(licagent_activate(store, key, NULL, NULL) == LICAGENT_ONLINE_OK);
  EXPECT(check_verdict(store, &r) == LICAGENT_VALID);

  EXPECT(strcmp(licagent_online_status_name(LICAGENT_ONLINE_REFUSED), "refused") == 0);
  EXPECT(strcmp(licagent_online_status_name(LICAGENT_ONLINE_INTERNAL_ERROR), "internal-error") ==
         0);
  EXPECT(strcmp(licagent_online_status_name(10), "unknown") == 0);
  EXPECT(strcmp(licagent_online_status_name(-1), "unknown") == 0);

  if (failures == 0) printf("c_api_online_test: ok\n");
  return failures == 0 ? 0 : 1;
}

// Catch2 v2 main for the mingw test executable (the Linux build links Catch2::Catch2WithMain).
#define CATCH_CONFIG_MAIN
#include "tests/catch.h"

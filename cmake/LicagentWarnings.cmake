# licagent_warnings: warning and sanitizer flags for our own targets only; never installed.
add_library(licagent_warnings INTERFACE)
target_compile_options(licagent_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wimplicit-fallthrough
  $<$<BOOL:${LICAGENT_WERROR}>:-Werror>)
if(LICAGENT_SANITIZE)
  target_compile_options(licagent_warnings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(licagent_warnings INTERFACE -fsanitize=address,undefined)
endif()

# Why: warnings catch real bugs early; CI turns them into errors so they never accumulate.
function(pxt_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                         -Wno-missing-field-initializers)
  if(PXT_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

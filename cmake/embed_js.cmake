# Inlines the chart libraries of HTML reports (src/report/html_report.cc) into the binary.
#
# scripts/install-deps.sh installs vega, vega-lite and vega-embed into web/node_modules with
# `npm ci` (versions pinned by web/package-lock.json). Their minified browser builds become
# raw string literals in a generated source file, so a report needs no network when opened.
#
# This file has two roles:
#  - include()d by CMakeLists.txt: rackscale_embed_js(VAR) checks that the builds exist
#    (a clear error at configure time if not) and adds the custom command that writes
#    ${CMAKE_BINARY_DIR}/generated/report_js.cc; VAR receives that path. The command
#    re-runs when any of the JS files, their package.json or this file changes.
#  - run as a script (cmake -DWEB_DIR=... -DOUT=... -P embed_js.cmake): writes the file.

# Library name, then its browser build relative to web/node_modules/, in load order.
set(_RS_EMBED_LIBS
  vega       vega/build/vega.min.js
  vega-lite  vega-lite/build/vega-lite.min.js
  vega-embed vega-embed/build/vega-embed.min.js)

if(NOT CMAKE_SCRIPT_MODE_FILE)
  set(_RS_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_FILE})
  function(rackscale_embed_js out_var)
    set(web ${PROJECT_SOURCE_DIR}/web)
    set(deps ${_RS_EMBED_SCRIPT})
    set(libs ${_RS_EMBED_LIBS})
    while(libs)
      list(POP_FRONT libs name build)
      foreach(f ${web}/node_modules/${build} ${web}/node_modules/${name}/package.json)
        if(NOT EXISTS ${f})
          message(FATAL_ERROR
            "web/node_modules is missing: run ./scripts/install-deps.sh (npm ci in web/)\n"
            "  (not found: ${f})")
        endif()
        list(APPEND deps ${f})
      endforeach()
    endwhile()
    set(out ${CMAKE_BINARY_DIR}/generated/report_js.cc)
    add_custom_command(
      OUTPUT ${out}
      COMMAND ${CMAKE_COMMAND} -DWEB_DIR=${web} -DOUT=${out} -P ${_RS_EMBED_SCRIPT}
      DEPENDS ${deps}
      COMMENT "Inlining vega, vega-lite and vega-embed from web/node_modules"
      VERBATIM)
    set(${out_var} ${out} PARENT_SCOPE)
  endfunction()
  return()
endif()

# ---- script mode ----
if(NOT WEB_DIR OR NOT OUT)
  message(FATAL_ERROR "usage: cmake -DWEB_DIR=<repo>/web -DOUT=<file.cc> -P embed_js.cmake")
endif()

# -Wpedantic (-Woverlength-strings) warns about string literals over 64 KiB, so each
# library is cut into chunks of at most this many bytes, each ending just after a ','
# (ASCII, so never inside a UTF-8 sequence).
set(max_chunk 60000)

set(body "")
set(table "")
set(libs ${_RS_EMBED_LIBS})
set(index 0)
while(libs)
  list(POP_FRONT libs name build)
  set(js_path ${WEB_DIR}/node_modules/${build})
  if(NOT EXISTS ${js_path})
    message(FATAL_ERROR "web/node_modules is missing: run ./scripts/install-deps.sh (npm ci in web/)\n"
                        "  (not found: ${js_path})")
  endif()
  file(READ ${WEB_DIR}/node_modules/${name}/package.json package_json)
  string(JSON version GET "${package_json}" version)
  file(READ ${js_path} js)
  # DevTools would look for the source map beside the report: drop the comment.
  string(REGEX REPLACE "\n//# sourceMappingURL=[^\n]*" "" js "${js}")
  string(LENGTH "${js}" js_len)

  # The code goes inside <script> elements: it must not end the element or open an
  # HTML comment there.
  string(TOLOWER "${js}" js_lower)
  foreach(bad "</script" "<!--")
    string(FIND "${js_lower}" "${bad}" at)
    if(at GREATER_EQUAL 0)
      message(FATAL_ERROR "${build} contains \"${bad}\" at byte ${at}: it cannot be inlined in a <script> element")
    endif()
  endforeach()
  string(FIND "${js}" "\r" at)
  if(at GREATER_EQUAL 0)
    message(FATAL_ERROR "${build} contains a carriage return at byte ${at}: a raw string literal would not keep it")
  endif()
  # A raw string delimiter that does not occur in the code.
  set(delim "")
  foreach(candidate rsjs rsjs0 rsjs1 rsjs2 rsjs3 rsjs4 rsjs5 rsjs6 rsjs7 rsjs8 rsjs9)
    string(FIND "${js}" ")${candidate}\"" at)
    if(at LESS 0)
      set(delim ${candidate})
      break()
    endif()
  endforeach()
  if(delim STREQUAL "")
    message(FATAL_ERROR "${build}: no raw string delimiter is free")
  endif()

  set(chunks "")
  set(pos 0)
  set(count 0)
  while(pos LESS js_len)
    math(EXPR left "${js_len} - ${pos}")
    if(left LESS_EQUAL max_chunk)
      set(n ${left})
    else()
      string(SUBSTRING "${js}" ${pos} ${max_chunk} window)
      string(FIND "${window}" "," cut REVERSE)
      if(cut LESS 0)
        message(FATAL_ERROR "${build}: no ',' in the ${max_chunk} bytes after byte ${pos}")
      endif()
      math(EXPR n "${cut} + 1")
    endif()
    string(SUBSTRING "${js}" ${pos} ${n} chunk)
    string(APPEND chunks "    std::string_view(R\"${delim}(${chunk})${delim}\", ${n}),\n")
    math(EXPR pos "${pos} + ${n}")
    math(EXPR count "${count} + 1")
  endwhile()

  string(MAKE_C_IDENTIFIER "${name}" ident)
  string(APPEND body
    "// ${build} (${name} ${version}): ${js_len} bytes in ${count} chunks.\n"
    "constexpr std::string_view k_${ident}[] = {\n${chunks}};\n\n")
  string(APPEND table
    "    {\"${name}\", \"${version}\", k_${ident}, ${count}, ${js_len}},\n")
  math(EXPR index "${index} + 1")
endwhile()

file(WRITE ${OUT}
  "// Generated by cmake/embed_js.cmake from web/node_modules: do not edit.\n"
  "#include \"report/report_js.h\"\n\n"
  "namespace rackscale::report_js {\n\n"
  "namespace {\n\n"
  "${body}"
  "}  // namespace\n\n"
  "const Library kLibraries[] = {\n${table}};\n"
  "const std::size_t kLibraryCount = ${index};\n\n"
  "}  // namespace rackscale::report_js\n")

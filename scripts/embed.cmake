# cmteb_embed_files(OUT SYMBOL FILE...): compiles files into a C array of
# {name, data, size} entries named SYMBOL, regenerated when a file changes.
function(cmteb_embed_files out symbol)
  set(files ${ARGN})
  string(REPLACE ";" "|" files_arg "${files}")
  add_custom_command(
    OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DSYMBOL=${symbol} "-DFILES=${files_arg}"
            -P ${CMAKE_SOURCE_DIR}/scripts/embed_run.cmake
    DEPENDS ${files} ${CMAKE_SOURCE_DIR}/scripts/embed_run.cmake
    COMMENT "Embedding ${symbol}" VERBATIM)
endfunction()

# merge_archives.cmake: -DAR=ar -DOUT=libx.a -DLIBS="a.a|b.a|...": one static
# archive holding the members of all LIBS (an ar MRI script).
string(REPLACE "|" ";" libs "${LIBS}")
set(script "create ${OUT}\n")
foreach(l ${libs})
  string(APPEND script "addlib ${l}\n")
endforeach()
string(APPEND script "save\nend\n")
file(WRITE ${OUT}.mri "${script}")
execute_process(COMMAND ${AR} -M INPUT_FILE ${OUT}.mri RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ar -M failed merging ${LIBS}")
endif()

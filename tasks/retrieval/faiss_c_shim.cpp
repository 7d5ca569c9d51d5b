/*
 * faiss_c_shim.cpp: the few functions of FAISS's C API (the headers in faiss/c_api/) that
 * cmteb calls, implemented over the C++ library.
 *
 * Debian ships libfaiss (C++) and the C API headers but not libfaiss_c, the
 * library that implements them. The top CMakeLists compiles this file only
 * when no libfaiss_c is found; with a real libfaiss_c this file is left out
 * and the same calls go there. Each function keeps the contract of the
 * header it is declared in: 0 on success; on a C++ exception -2 (FaissException),
 * -4 (std::exception) or -1 (anything else), with the message available from
 * faiss_get_last_error() on the same thread until the next failing call.
 *
 * Implemented: faiss_get_last_error, faiss_IndexFlatIP_new_with,
 * faiss_index_factory, faiss_Index_{free,d,is_trained,ntotal,train,add,search},
 * faiss_ParameterSpace_{new,free,set_index_parameters}.
 */
#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IndexFlat.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_factory.h>

#include <exception>
#include <string>

extern "C" {
#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>
}

namespace {

thread_local std::string last_error;

/* Runs f, turning C++ exceptions into the C API's error codes. */
template <typename F>
int guarded(F f) {
    try {
        f();
        return 0;
    } catch (const faiss::FaissException &e) {
        last_error = e.what();
        return -2;
    } catch (const std::exception &e) {
        last_error = e.what();
        return -4;
    } catch (...) {
        last_error = "unknown exception";
        return -1;
    }
}

faiss::Index *cxx(FaissIndex *p) { return reinterpret_cast<faiss::Index *>(p); }
const faiss::Index *cxx(const FaissIndex *p) { return reinterpret_cast<const faiss::Index *>(p); }

} // namespace

extern "C" {

const char *faiss_get_last_error() { return last_error.c_str(); }

int faiss_IndexFlatIP_new_with(FaissIndexFlatIP **p_index, idx_t d) {
    return guarded([&] { *p_index = reinterpret_cast<FaissIndexFlatIP *>(new faiss::IndexFlatIP(d)); });
}

int faiss_index_factory(FaissIndex **p_index, int d, const char *description, FaissMetricType metric) {
    return guarded([&] {
        *p_index = reinterpret_cast<FaissIndex *>(
            faiss::index_factory(d, description, static_cast<faiss::MetricType>(metric)));
    });
}

void faiss_Index_free(FaissIndex *obj) { delete cxx(obj); }

int faiss_Index_d(const FaissIndex *index) { return static_cast<int>(cxx(index)->d); }
int faiss_Index_is_trained(const FaissIndex *index) { return cxx(index)->is_trained ? 1 : 0; }
idx_t faiss_Index_ntotal(const FaissIndex *index) { return cxx(index)->ntotal; }

int faiss_Index_train(FaissIndex *index, idx_t n, const float *x) {
    return guarded([&] { cxx(index)->train(n, x); });
}

int faiss_Index_add(FaissIndex *index, idx_t n, const float *x) {
    return guarded([&] { cxx(index)->add(n, x); });
}

int faiss_Index_search(const FaissIndex *index, idx_t n, const float *x, idx_t k, float *distances,
                       idx_t *labels) {
    return guarded([&] { cxx(index)->search(n, x, k, distances, labels); });
}

int faiss_ParameterSpace_new(FaissParameterSpace **space) {
    return guarded([&] { *space = reinterpret_cast<FaissParameterSpace *>(new faiss::ParameterSpace()); });
}

void faiss_ParameterSpace_free(FaissParameterSpace *space) {
    delete reinterpret_cast<faiss::ParameterSpace *>(space);
}

int faiss_ParameterSpace_set_index_parameters(const FaissParameterSpace *space, FaissIndex *index,
                                              const char *params) {
    return guarded([&] {
        reinterpret_cast<const faiss::ParameterSpace *>(space)->set_index_parameters(cxx(index), params);
    });
}

} // extern "C"

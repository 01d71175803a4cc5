/* The JNI layer of the Java binding: SWIG's view of tidewire.h, and nothing else.
 *
 * The typemaps below only change how values cross JNI, never what a call does:
 * - handles (tw_runtime, tw_config, tw_stream, tw_event) are Java longs;
 * - out-parameters are arrays the call fills (`long[] out`, `byte[][] out_name`);
 * - strings cross as UTF-8 byte arrays both ways, because JNI's own string functions speak
 *   "modified UTF-8" (NUL and characters outside the BMP encoded differently) and text from the
 *   wire need not be valid UTF-8 at all; the Java side decodes with replacement;
 * - tw_event_data() is a byte[] of tw_event_data_len() bytes (payloads may hold NUL).
 * The generated classes land in package io.tidewire and are package-private: the hand-written
 * façade in src/main/java is the API.
 */
%module TidewireNative

%include <stdint.i>

%{
#include <stdlib.h>
#include <string.h>

#include <tidewire/tidewire.h>

/* A byte[] holding len bytes of text; NULL text is a null array. */
static jbyteArray tw_jni_bytes(JNIEnv *jenv, const char *text, size_t len) {
  if (!text) return NULL;
  jbyteArray array = jenv->NewByteArray(static_cast<jsize>(len));
  if (array && len) jenv->SetByteArrayRegion(array, 0, static_cast<jsize>(len), reinterpret_cast<const jbyte *>(text));
  return array;
}

/* Stores text as element 0 of a byte[][] (an out-parameter). */
static void tw_jni_store_text(JNIEnv *jenv, jobjectArray out, const char *text) {
  jbyteArray bytes = tw_jni_bytes(jenv, text, text ? strlen(text) : 0);
  jenv->SetObjectArrayElement(out, 0, bytes);
  if (bytes) jenv->DeleteLocalRef(bytes);
}
%}

%pragma(java) jniclassclassmodifiers = "final class"
%pragma(java) moduleclassmodifiers = "final class"
/* The library is loaded by the façade's loader, from the jar, the first time any call is made. */
%pragma(java) jniclasscode = %{
  static {
    NativeLibrary.load();
  }
%}

/* Enums as int constants in package-private classes (tw_err.TW_ERR_TIMEOUT): values are the ABI's. */
%include "enumtypeunsafe.swg"
%javaconst(1);
%typemap(javaclassmodifiers) enum SWIGTYPE "final class"

/* Compile-time macros: the façade asks the library (tw_version()) instead. */
%ignore TW_VERSION_MAJOR;
%ignore TW_VERSION_MINOR;
%ignore TW_VERSION_PATCH;
%ignore TW_VERSION;
/* A log hook would be an upcall from the I/O thread; raw pointers mean nothing to Java. */
%ignore tw_log_set;
%ignore tw_log_fn;
%ignore tw_free;
%ignore tw_stream_fd;

/* ---- strings: UTF-8 byte arrays ------------------------------------------------------------- */
%typemap(jni) const char * "jbyteArray"
%typemap(jtype) const char * "byte[]"
%typemap(jstype) const char * "byte[]"
%typemap(javain) const char * "$javainput"
%typemap(javaout) const char * { return $jnicall; }
/* In: a NUL-terminated copy of the array (a null array is a NULL pointer). */
%typemap(in) const char * {
  $1 = NULL;
  if ($input) {
    jsize len = jenv->GetArrayLength($input);
    char *copy = static_cast<char *>(malloc(static_cast<size_t>(len) + 1));
    if (!copy) {
      SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "copying a string argument");
      return $null;
    }
    jenv->GetByteArrayRegion($input, 0, len, reinterpret_cast<jbyte *>(copy));
    copy[len] = '\0';
    $1 = copy;
  }
}
%typemap(freearg) const char * %{ free(const_cast<char *>($1)); %}
%typemap(out) const char * %{ $result = tw_jni_bytes(jenv, $1, $1 ? strlen($1) : 0); %}
/* The payload: tw_event_data_len() bytes, NUL included. */
%typemap(out) const char *tw_event_data %{ $result = tw_jni_bytes(jenv, $1, tw_event_data_len(arg1)); %}

/* Borrowed strings returned through out-parameters (tw_config_key_info, tw_event_header_at). */
%typemap(jni) const char ** "jobjectArray"
%typemap(jtype) const char ** "byte[][]"
%typemap(jstype) const char ** "byte[][]"
%typemap(javain) const char ** "$javainput"
%typemap(in) const char ** (const char *text = NULL) %{ $1 = $input ? ($1_ltype)&text : NULL; %}
%typemap(argout) const char ** %{ if ($input) tw_jni_store_text(jenv, $input, text$argnum); %}

/* Owned strings returned through out-parameters (tw_config_get, tw_stream_url): copied, then freed. */
%typemap(jni) char **out "jobjectArray"
%typemap(jtype) char **out "byte[][]"
%typemap(jstype) char **out "byte[][]"
%typemap(javain) char **out "$javainput"
%typemap(in) char **out (char *text = NULL) %{ $1 = &text; %}
%typemap(argout) char **out %{ if ($input) tw_jni_store_text(jenv, $input, text$argnum); %}
%typemap(freearg) char **out %{ tw_free(text$argnum); %}

/* ---- bytes in: tw_stream_send, and tw_config_set_n (the core refuses a NUL, naming the key) ---- */
%apply (const char *STRING, size_t LENGTH) { (const void *data, size_t len) }
%apply (const char *STRING, size_t LENGTH) { (const char *key, size_t key_len) }
%apply (const char *STRING, size_t LENGTH) { (const char *value, size_t value_len) }

/* ---- numbers through out-parameters ---------------------------------------------------------- */
%define TW_LONG_OUT(TYPE)
%typemap(jni) TYPE "jlongArray"
%typemap(jtype) TYPE "long[]"
%typemap(jstype) TYPE "long[]"
%typemap(javain) TYPE "$javainput"
%typemap(in) TYPE ($*1_ltype value = 0) %{ $1 = &value; %}
%typemap(argout) TYPE %{
  if ($input) {
    jlong v = static_cast<jlong>(value$argnum);
    jenv->SetLongArrayRegion($input, 0, 1, &v);
  }
%}
%enddef
TW_LONG_OUT(uint64_t *out)
TW_LONG_OUT(size_t *out_count)

/* ---- handles: longs ---------------------------------------------------------------------------- */
%define TW_HANDLE(TYPE)
%typemap(jni) TYPE *, const TYPE * "jlong"
%typemap(jtype) TYPE *, const TYPE * "long"
%typemap(jstype) TYPE *, const TYPE * "long"
%typemap(javain) TYPE *, const TYPE * "$javainput"
%typemap(javaout) TYPE *, const TYPE * { return $jnicall; }
%typemap(in) TYPE *, const TYPE * %{ $1 = reinterpret_cast<$1_ltype>(static_cast<intptr_t>($input)); %}
%typemap(out) TYPE *, const TYPE * %{ $result = static_cast<jlong>(reinterpret_cast<intptr_t>($1)); %}
/* TYPE **out: a long[] that receives the handles, one per element (a batch fills several). */
%typemap(jni) TYPE **out "jlongArray"
%typemap(jtype) TYPE **out "long[]"
%typemap(jstype) TYPE **out "long[]"
%typemap(javain) TYPE **out "$javainput"
%typemap(in) TYPE **out (jsize count = 0) {
  count = $input ? jenv->GetArrayLength($input) : 0;
  if (count == 0) {
    SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException, "an out array of at least one element is needed");
    return $null;
  }
  $1 = static_cast<$1_ltype>(calloc(static_cast<size_t>(count), sizeof *$1));
  if (!$1) {
    SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "allocating an out array");
    return $null;
  }
}
%typemap(argout) TYPE **out {
  for (jsize i = 0; i < count$argnum; i++) {
    jlong v = static_cast<jlong>(reinterpret_cast<intptr_t>($1[i]));
    jenv->SetLongArrayRegion($input, i, 1, &v);
  }
}
%typemap(freearg) TYPE **out %{ free($1); %}
%enddef
TW_HANDLE(tw_runtime)
TW_HANDLE(tw_config)
TW_HANDLE(tw_stream)
TW_HANDLE(tw_event)

%include <tidewire/tidewire.h>

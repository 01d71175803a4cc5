/* The JNI layer of the Java binding: SWIG's view of tidewire.h, plus the batch receive call.
 *
 * The typemaps below only change how values cross JNI, never what a call does:
 * - handles (tw_runtime, tw_config, tw_stream, tw_event) are Java longs;
 * - out-parameters are arrays the call fills (`long[] out`, `byte[][] out_name`);
 * - strings cross as UTF-8 byte arrays both ways, because JNI's own string functions speak
 *   "modified UTF-8" (NUL and characters outside the BMP encoded differently) and text from the
 *   wire need not be valid UTF-8 at all; the Java side decodes with replacement;
 * - tw_event_data() is a byte[] of tw_event_data_len() bytes (payloads may hold NUL);
 * - events reach Java in batches through tw_jni_next_batch (at the end of this file, written by
 *   hand over tw_stream_next_batch): one JNI crossing for many events, not a dozen per event.
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
/* The runtime's log is taken by a Java thread blocked in tw_runtime_log_next_batch (LogDrainer). */
%ignore tw_runtime_log_fd;

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

/* ---- bytes in: tw_stream_send, tw_config_set_n, tw_stream_set_header_n (the core refuses a NUL) ---- */
%apply (const char *STRING, size_t LENGTH) { (const void *data, size_t len) }
%apply (const char *STRING, size_t LENGTH) { (const char *key, size_t key_len) }
%apply (const char *STRING, size_t LENGTH) { (const char *value, size_t value_len) }
%apply (const char *STRING, size_t LENGTH) { (const char *name, size_t name_len) }

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
TW_HANDLE(tw_log_record)

%include <tidewire/tidewire.h>

/* ---- events in bulk: the façade's receive path (Batch.java) ------------------------------------ */
/* The calls below get the JNIEnv, to fill Java arrays themselves. */
%typemap(in, numinputs=0) JNIEnv *jenv %{ $1 = jenv; %}

%inline %{
/* The layout both sides share. fields[0] is the number of events n; event i owns the
 * TW_JNI_FIELDS longs from 1 + i * TW_JNI_FIELDS. storage[0] is a byte[] holding each event's id,
 * type and payload back to back, in that order (the native side replaces it with a larger array
 * when it is too short). A payload of TW_JNI_OWN_ARRAY bytes or more gets a byte[] of its own in
 * objects[2i] instead, so a large payload is copied once, not twice; objects[2i + 1] is a byte[][]
 * of header names and values (name, value, name, value...) when the event has headers. */
enum tw_jni_batch {
  TW_JNI_KIND = 0,
  TW_JNI_TRANSPORT = 1,
  TW_JNI_RECEIVED_NS = 2,
  TW_JNI_ID_LEN = 3,
  TW_JNI_TYPE_LEN = 4,
  TW_JNI_DATA_LEN = 5, /* in storage unless objects[2i] holds the payload */
  TW_JNI_ERROR = 6,
  TW_JNI_HTTP_STATUS = 7,
  TW_JNI_CLOSE_CODE = 8,
  TW_JNI_RETRY_MS = 9,
  TW_JNI_FIELDS = 10,
  TW_JNI_OWN_ARRAY = 4096,
  TW_JNI_MAX_BATCH = 256
};
%}

%{
/* A byte[][] of the event's header names and values. NULL when it has none, or with an exception
 * pending when Java is out of memory. */
static jobjectArray tw_jni_headers(JNIEnv *jenv, const tw_event *event) {
  size_t count = tw_event_header_count(event);
  if (count == 0) return NULL;
  jclass bytes_class = jenv->FindClass("[B");
  if (!bytes_class) return NULL;
  jobjectArray headers = jenv->NewObjectArray(static_cast<jsize>(2 * count), bytes_class, NULL);
  jenv->DeleteLocalRef(bytes_class);
  for (size_t i = 0; headers && i < count; i++) {
    const char *text[2] = {NULL, NULL};
    tw_event_header_at(&text[0], &text[1], event, i);
    for (int j = 0; j < 2; j++) {
      if (!text[j]) text[j] = "";
      jbyteArray array = tw_jni_bytes(jenv, text[j], strlen(text[j]));
      if (!array) {
        jenv->DeleteLocalRef(headers);
        return NULL;
      }
      jenv->SetObjectArrayElement(headers, static_cast<jsize>(2 * i + j), array);
      jenv->DeleteLocalRef(array);
    }
  }
  return headers;
}

/* Copies events[0 .. count) into the arrays (the layout of enum tw_jni_batch) and gives them back
 * to `stream` (tw_stream_recycle: their memory serves its next events; NULL: destroyed), whatever
 * happens: the caller owns none of them afterwards. count is at most TW_JNI_MAX_BATCH.
 * False with a Java exception pending when an array could not be had (the events are lost then,
 * as the JVM is out of memory). */
static bool tw_jni_pack(JNIEnv *jenv, tw_stream *stream, tw_event **events, size_t count, jlongArray fields,
                        jobjectArray storage, jobjectArray objects) {
  bool ok = true;
  size_t bulk = 0;
  size_t text_len[TW_JNI_MAX_BATCH][2]; /* of id and type: measured once, copied later */
  for (size_t i = 0; i < count && ok; i++) {
    const tw_event *e = events[i];
    size_t len = tw_event_data_len(e);
    text_len[i][0] = strlen(tw_event_id(e));
    text_len[i][1] = strlen(tw_event_type(e));
    bulk += text_len[i][0] + text_len[i][1];
    if (len < TW_JNI_OWN_ARRAY) {
      bulk += len;
    } else if (len > INT32_MAX) {
      SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "an event larger than a Java array");
      ok = false;
    } else {
      jbyteArray payload = tw_jni_bytes(jenv, tw_event_data(e), len);
      ok = payload != NULL;
      if (ok) jenv->SetObjectArrayElement(objects, static_cast<jsize>(2 * i), payload);
      if (payload) jenv->DeleteLocalRef(payload);
    }
    if (ok && tw_event_header_count(e) > 0) {
      jobjectArray headers = tw_jni_headers(jenv, e);
      ok = headers != NULL;
      if (ok) jenv->SetObjectArrayElement(objects, static_cast<jsize>(2 * i + 1), headers);
      if (headers) jenv->DeleteLocalRef(headers);
    }
  }
  if (ok && bulk > INT32_MAX) {
    SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "a batch larger than a Java array");
    ok = false;
  }
  jbyteArray buffer = NULL;
  if (ok) {
    buffer = static_cast<jbyteArray>(jenv->GetObjectArrayElement(storage, 0));
    jsize have = buffer ? jenv->GetArrayLength(buffer) : 0;
    if (!buffer || static_cast<size_t>(have) < bulk) {
      /* Doubling keeps a growing stream from reallocating on every batch. */
      size_t grown = static_cast<size_t>(have) * 2;
      size_t size = (grown > bulk && grown <= INT32_MAX) ? grown : (bulk > 0 ? bulk : 1);
      if (buffer) jenv->DeleteLocalRef(buffer);
      buffer = jenv->NewByteArray(static_cast<jsize>(size));
      ok = buffer != NULL;
      if (ok) jenv->SetObjectArrayElement(storage, 0, buffer);
    }
  }
  jlong *field = NULL;
  jbyte *bytes = NULL;
  if (ok) {
    /* Only memcpy between Get and Release: no JNI call may run while the arrays are pinned. */
    field = static_cast<jlong *>(jenv->GetPrimitiveArrayCritical(fields, NULL));
    bytes = field ? static_cast<jbyte *>(jenv->GetPrimitiveArrayCritical(buffer, NULL)) : NULL;
    ok = bytes != NULL;
    if (!ok) SWIG_JavaThrowException(jenv, SWIG_JavaOutOfMemoryError, "pinning the batch arrays");
  }
  if (ok) {
    size_t at = 0;
    field[0] = static_cast<jlong>(count);
    for (size_t i = 0; i < count; i++) {
      const tw_event *e = events[i];
      jlong *f = field + 1 + i * TW_JNI_FIELDS;
      const char *text[2] = {tw_event_id(e), tw_event_type(e)};
      for (int j = 0; j < 2; j++) {
        memcpy(bytes + at, text[j], text_len[i][j]);
        at += text_len[i][j];
        f[TW_JNI_ID_LEN + j] = static_cast<jlong>(text_len[i][j]);
      }
      size_t len = tw_event_data_len(e);
      if (len < TW_JNI_OWN_ARRAY) {
        memcpy(bytes + at, tw_event_data(e), len);
        at += len;
      }
      f[TW_JNI_DATA_LEN] = static_cast<jlong>(len);
      f[TW_JNI_KIND] = tw_event_kind(e);
      f[TW_JNI_TRANSPORT] = tw_event_transport(e);
      f[TW_JNI_RECEIVED_NS] = tw_event_received_ns(e);
      f[TW_JNI_ERROR] = tw_event_error(e);
      f[TW_JNI_HTTP_STATUS] = tw_event_http_status(e);
      f[TW_JNI_CLOSE_CODE] = tw_event_close_code(e);
      f[TW_JNI_RETRY_MS] = tw_event_retry_ms(e);
    }
  }
  if (bytes) jenv->ReleasePrimitiveArrayCritical(buffer, bytes, 0);
  if (field) jenv->ReleasePrimitiveArrayCritical(fields, field, 0);
  if (buffer) jenv->DeleteLocalRef(buffer);
  tw_stream_recycle(stream, events, count);
  return ok;
}

/* Throws IllegalArgumentException unless the arrays hold `capacity` events. */
static bool tw_jni_fits(JNIEnv *jenv, int capacity, jlongArray fields, jobjectArray storage, jobjectArray objects) {
  if (capacity < 1 || capacity > TW_JNI_MAX_BATCH || !fields || !storage || !objects ||
      jenv->GetArrayLength(fields) < 1 + capacity * TW_JNI_FIELDS || jenv->GetArrayLength(storage) < 1 ||
      jenv->GetArrayLength(objects) < 2 * capacity) {
    SWIG_JavaThrowException(jenv, SWIG_JavaIllegalArgumentException, "batch arrays too small for the capacity");
    return false;
  }
  return true;
}
%}

%inline %{
/* tw_stream_next_batch for up to `capacity` events (at most TW_JNI_MAX_BATCH), delivered into the
 * arrays as enum tw_jni_batch lays them out; fields[0] is 0 when none came. Returns what
 * tw_stream_next_batch returned, TW_ERR_NO_MEMORY with an exception pending if Java ran out. */
static int tw_jni_next_batch(JNIEnv *jenv, tw_stream *stream, int capacity, int timeout_ms,
                             jlongArray fields, jobjectArray storage, jobjectArray objects) {
  if (!tw_jni_fits(jenv, capacity, fields, storage, objects)) return TW_ERR_INVALID_ARGUMENT;
  tw_event *events[TW_JNI_MAX_BATCH];
  size_t count = 0;
  tw_err err = tw_stream_next_batch(events, &count, stream, static_cast<size_t>(capacity), timeout_ms);
  if (!tw_jni_pack(jenv, stream, events, count, fields, storage, objects)) return TW_ERR_NO_MEMORY;
  return err;
}
%}

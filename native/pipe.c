/*
 * What a pipe on stdout can tell its writer that Node cannot ask: how many bytes the reader
 * has not taken out yet (ioctl FIONREAD), and whether any reader is left (poll: POLLERR on
 * the write end once every read end is closed).
 *
 * Linux x86-64 only, built without libc (raw system calls), so the one prebuilt binary
 * loads under glibc and musl alike and nothing is compiled on the user's machine. The
 * N-API functions are resolved from the node process that loads it.
 */
#include <node_api.h>

#define SYS_POLL 7
#define SYS_IOCTL 16
#define FIONREAD 0x541B
#define POLLERR 0x008

struct pollfd {
  int fd;
  short events;
  short revents;
};

static long syscall3(long number, long a, long b, long c) {
  long result;
  __asm__ volatile("syscall" : "=a"(result) : "a"(number), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return result;
}

static int fd_argument(napi_env env, napi_callback_info info, int *fd) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, 0, 0) != napi_ok || argc < 1) return 0;
  return napi_get_value_int32(env, argv[0], fd) == napi_ok;
}

static napi_value number(napi_env env, long value) {
  napi_value result;
  napi_create_int64(env, value, &result);
  return result;
}

/* unread(fd): the bytes still in the pipe, or -errno (e.g. -25, ENOTTY, on a non-pipe). */
static napi_value unread(napi_env env, napi_callback_info info) {
  int fd;
  int count = 0;
  if (!fd_argument(env, info, &fd)) return number(env, -22);
  long error = syscall3(SYS_IOCTL, fd, FIONREAD, (long)&count);
  return number(env, error < 0 ? error : count);
}

/* readerGone(fd): 1 once no reader is left on the pipe, 0 while one is, or -errno. */
static napi_value reader_gone(napi_env env, napi_callback_info info) {
  int fd;
  if (!fd_argument(env, info, &fd)) return number(env, -22);
  struct pollfd probe = {fd, 0, 0};
  long ready = syscall3(SYS_POLL, (long)&probe, 1, 0);
  if (ready < 0) return number(env, ready);
  return number(env, (probe.revents & POLLERR) ? 1 : 0);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "unread", NAPI_AUTO_LENGTH, unread, 0, &fn);
  napi_set_named_property(env, exports, "unread", fn);
  napi_create_function(env, "readerGone", NAPI_AUTO_LENGTH, reader_gone, 0, &fn);
  napi_set_named_property(env, exports, "readerGone", fn);
  return exports;
}

/*
 * Starting a handler's process without copying warren's address space. Node's spawn forks
 * the whole process (some 80 MB) and waits for the copy to exec: about a millisecond a
 * handler on a quiet machine, several on a busy one, most of what a process per message
 * costs. Here the child shares the parent's memory until it execs (clone with CLONE_VM and
 * CLONE_VFORK, as posix_spawn does), on a stack of its own, so nothing is copied.
 *
 * spawn(path, argv, envp): [pid, stdin, stdout, stderr, fd3] (the parent's ends of four
 * pipes, close-on-exec: the child's stdin, stdout, stderr and descriptor 3), or -errno. The
 * child is the leader of a new session (its own process group), with every signal at its
 * default and none blocked, as Node's spawn with `detached` leaves it.
 * reap(pid): -1 while the child runs, its exit code once it exited, 256 + the signal once a
 * signal ended it (the zombie is then gone).
 *
 * Linux x86-64, raw system calls, no libc: like pipe.c.
 */
#include <node_api.h>

#define SYS_CLOSE 3
#define SYS_RT_SIGACTION 13
#define SYS_RT_SIGPROCMASK 14
#define SYS_DUP2 33
#define SYS_CLONE 56
#define SYS_EXECVE 59
#define SYS_EXIT 60
#define SYS_FCNTL 72
#define SYS_SETSID 112
#define SYS_WAITID 247
#define SYS_PIPE2 293
#define SYS_SCHED_SETAFFINITY 203
#define SYS_SCHED_GETAFFINITY 204
#define SYS_GETCPU 309

#define CLONE_VM 0x100
#define CLONE_VFORK 0x4000
#define SIGCHLD 17
#define O_CLOEXEC 02000000
#define F_DUPFD_CLOEXEC 1030
#define SIG_SETMASK 2
#define P_PID 1
#define WNOHANG 1
#define WEXITED 4
#define CLD_EXITED 1

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long result;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(result)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return result;
}
#define sys(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

struct child {
  const char *path;
  char **argv;
  char **envp;
  int fds[4];
  /* Written by the child (same memory) when exec fails: the parent reads it once resumed. */
  volatile long error;
  /* The CPUs the parent may run on (its bytes, 0 if unknown): the child's again before it execs. */
  long affinity_bytes;
  unsigned long *affinity;
};

/* The kernel's struct sigaction on x86-64: handler, flags, restorer, mask. */
struct kernel_sigaction {
  unsigned long handler;
  unsigned long flags;
  unsigned long restorer;
  unsigned long mask;
};

static void child_main(struct child *c) {
  struct kernel_sigaction dfl = {0, 0, 0, 0};
  for (long sig = 1; sig <= 64; sig++) {
    if (sig == 9 || sig == 19) continue;
    sys6(SYS_RT_SIGACTION, sig, (long)&dfl, 0, 8, 0, 0);
  }
  sys(SYS_SETSID, 0, 0, 0);
  /* Out of the way of 0 to 3 first, so that no pipe is overwritten before it is moved. */
  long moved[4];
  for (int i = 0; i < 4; i++) moved[i] = sys(SYS_FCNTL, c->fds[i], F_DUPFD_CLOEXEC, 16);
  for (int i = 0; i < 4; i++) {
    if (moved[i] < 0 || sys(SYS_DUP2, moved[i], i, 0) < 0) {
      c->error = moved[i] < 0 ? -moved[i] : 9;
      sys(SYS_EXIT, 127, 0, 0);
    }
  }
  unsigned long none = 0;
  sys6(SYS_RT_SIGPROCMASK, SIG_SETMASK, (long)&none, 0, 8, 0, 0);
  if (c->affinity_bytes > 0) sys(SYS_SCHED_SETAFFINITY, 0, c->affinity_bytes, c->affinity);
  long failed = sys(SYS_EXECVE, c->path, c->argv, c->envp);
  c->error = -failed;
  sys(SYS_EXIT, 127, 0, 0);
}

/* The child's stack: one spawn at a time (the parent thread waits until the child execs). */
static char child_stack[64 * 1024] __attribute__((aligned(16)));

/* clone(CLONE_VM | CLONE_VFORK): the child runs child_main(c) on child_stack, never returns. */
static long clone_vfork(struct child *c) {
  long result;
  register long r10 __asm__("r10") = 0;
  register long r8 __asm__("r8") = 0;
  register void (*r12)(struct child *) __asm__("r12") = child_main;
  register struct child *r13 __asm__("r13") = c;
  __asm__ volatile(
      "syscall\n\t"
      "test %%rax, %%rax\n\t"
      "jnz 1f\n\t"
      "xor %%ebp, %%ebp\n\t"
      "mov %%r13, %%rdi\n\t"
      "call *%%r12\n\t"
      "mov $60, %%eax\n\t"
      "mov $127, %%edi\n\t"
      "syscall\n\t"
      "1:\n\t"
      : "=a"(result)
      : "a"(SYS_CLONE), "D"(CLONE_VM | CLONE_VFORK | SIGCHLD), "S"(child_stack + sizeof child_stack),
        "d"(0), "r"(r10), "r"(r8), "r"(r12), "r"(r13)
      : "rcx", "r11", "memory");
  return result;
}

static napi_value number(napi_env env, long value) {
  napi_value result;
  napi_create_int64(env, value, &result);
  return result;
}

/* The bytes a JS string array needs as C strings, and their count. */
static int measure(napi_env env, napi_value array, unsigned *count, size_t *bytes) {
  if (napi_get_array_length(env, array, count) != napi_ok) return 0;
  for (unsigned i = 0; i < *count; i++) {
    napi_value item;
    size_t length;
    if (napi_get_element(env, array, i, &item) != napi_ok) return 0;
    if (napi_get_value_string_utf8(env, item, 0, 0, &length) != napi_ok) return 0;
    *bytes += length + 1;
  }
  return 1;
}

/* Copies a JS string array into `pointers` (null-terminated) and the strings at `*text`. */
static int copy_strings(napi_env env, napi_value array, unsigned count, char **pointers, char **text,
                        char *end) {
  for (unsigned i = 0; i < count; i++) {
    napi_value item;
    size_t length;
    if (napi_get_element(env, array, i, &item) != napi_ok) return 0;
    if (napi_get_value_string_utf8(env, item, *text, end - *text, &length) != napi_ok) return 0;
    pointers[i] = *text;
    *text += length + 1;
  }
  pointers[count] = 0;
  return 1;
}

static void close_all(int *fds, int count) {
  for (int i = 0; i < count; i++)
    if (fds[i] >= 0) sys(SYS_CLOSE, fds[i], 0, 0);
}

static napi_value spawn(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value args[3];
  if (napi_get_cb_info(env, info, &argc, args, 0, 0) != napi_ok || argc < 3) return number(env, -22);
  size_t path_length;
  unsigned argv_count;
  unsigned envp_count;
  size_t bytes = 0;
  if (napi_get_value_string_utf8(env, args[0], 0, 0, &path_length) != napi_ok) return number(env, -22);
  bytes += path_length + 1;
  if (!measure(env, args[1], &argv_count, &bytes) || !measure(env, args[2], &envp_count, &bytes))
    return number(env, -22);
  size_t pointer_bytes = sizeof(char *) * (argv_count + 1 + envp_count + 1);
  void *memory;
  napi_value holder;
  if (napi_create_buffer(env, pointer_bytes + bytes, &memory, &holder) != napi_ok) return number(env, -12);
  char **argv = memory;
  char **envp = argv + argv_count + 1;
  char *text = (char *)memory + pointer_bytes;
  char *end = text + bytes;
  struct child c = {text, argv, envp, {-1, -1, -1, -1}, 0, 0, 0};
  size_t copied;
  if (napi_get_value_string_utf8(env, args[0], text, end - text, &copied) != napi_ok) return number(env, -22);
  text += copied + 1;
  if (!copy_strings(env, args[1], argv_count, argv, &text, end) ||
      !copy_strings(env, args[2], envp_count, envp, &text, end))
    return number(env, -22);

  /* Pipes: [read, write] each; the child reads stdin and fd 3, writes stdout and stderr. */
  int pipes[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
  for (int i = 0; i < 4; i++) {
    long made = sys(SYS_PIPE2, &pipes[2 * i], O_CLOEXEC, 0);
    if (made < 0) {
      close_all(pipes, 8);
      return number(env, made);
    }
  }
  int child_ends[4] = {pipes[0], pipes[3], pipes[5], pipes[6]};
  int parent_ends[4] = {pipes[1], pipes[2], pipes[4], pipes[7]};
  for (int i = 0; i < 4; i++) c.fds[i] = child_ends[i];

  /*
   * The child starts on this thread's CPU, which is free while the thread waits for it to
   * exec. Left to the scheduler, a new process may be queued on a busy CPU (the handler before
   * it, running), and this thread waits with it: milliseconds a handler on a 2-CPU machine.
   * So this thread's CPUs are just this one for the clone; the child takes all of them back
   * before it execs, and so does this thread once the clone returns.
   */
  unsigned long affinity[16];
  unsigned long here[16];
  unsigned cpu = 0;
  long affinity_bytes = sys(SYS_SCHED_GETAFFINITY, 0, sizeof affinity, affinity);
  int pinned = 0;
  if (affinity_bytes > 0 && sys(SYS_GETCPU, &cpu, 0, 0) == 0 && cpu < 8 * (unsigned long)affinity_bytes) {
    for (int i = 0; i < 16; i++) here[i] = 0;
    here[cpu / 64] = 1UL << (cpu % 64);
    pinned = sys(SYS_SCHED_SETAFFINITY, 0, affinity_bytes, here) == 0;
  }
  if (pinned) {
    c.affinity_bytes = affinity_bytes;
    c.affinity = affinity;
  }
  /* No signal handler of Node's may run in the child while it shares Node's memory. */
  unsigned long all = ~0UL;
  unsigned long old = 0;
  sys6(SYS_RT_SIGPROCMASK, SIG_SETMASK, (long)&all, (long)&old, 8, 0, 0);
  long pid = clone_vfork(&c);
  sys6(SYS_RT_SIGPROCMASK, SIG_SETMASK, (long)&old, 0, 8, 0, 0);
  if (pinned) sys(SYS_SCHED_SETAFFINITY, 0, affinity_bytes, affinity);
  close_all(child_ends, 4);
  if (pid < 0 || c.error != 0) {
    close_all(parent_ends, 4);
    if (pid > 0) {
      int siginfo[32];
      sys6(SYS_WAITID, P_PID, pid, (long)siginfo, WEXITED, 0, 0);
    }
    return number(env, pid < 0 ? pid : -c.error);
  }
  napi_value result;
  napi_create_array_with_length(env, 5, &result);
  napi_set_element(env, result, 0, number(env, pid));
  for (int i = 0; i < 4; i++) napi_set_element(env, result, i + 1, number(env, parent_ends[i]));
  return result;
}

static napi_value reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  int pid;
  if (napi_get_cb_info(env, info, &argc, args, 0, 0) != napi_ok || argc < 1) return number(env, -22);
  if (napi_get_value_int32(env, args[0], &pid) != napi_ok) return number(env, -22);
  /* siginfo_t: si_signo, si_errno, si_code, a pad, then si_pid, si_uid, si_status. */
  int siginfo[32];
  for (int i = 0; i < 32; i++) siginfo[i] = 0;
  long done = sys6(SYS_WAITID, P_PID, pid, (long)siginfo, WEXITED | WNOHANG, 0, 0);
  if (done < 0) return number(env, done);
  if (siginfo[4] == 0) return number(env, -1);
  return number(env, siginfo[2] == CLD_EXITED ? siginfo[6] : 256 + siginfo[6]);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, spawn, 0, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "reap", NAPI_AUTO_LENGTH, reap, 0, &fn);
  napi_set_named_property(env, exports, "reap", fn);
  return exports;
}

#include "CSignals.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static atomic_int pending[65];
static atomic_int exiting;
static int pipe_fds[2] = {-1, -1};
static pthread_once_t pipe_once = PTHREAD_ONCE_INIT;

static void make_pipe(void) {
    int fds[2];
    if (pipe(fds) != 0) return;
    for (int i = 0; i < 2; i++) {
        fcntl(fds[i], F_SETFD, FD_CLOEXEC);
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    }
    pipe_fds[0] = fds[0];
    pipe_fds[1] = fds[1];
}

static void on_signal(int sig) {
    if (atomic_load(&exiting) && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)) _exit(128 + sig);
    int saved = errno;
    if (sig > 0 && sig < 65) atomic_store(&pending[sig], 1);
    unsigned char byte = (unsigned char)sig;
    // Non-blocking: a full pipe (thousands of unread signals) drops the byte, never the flag.
    if (pipe_fds[1] >= 0) (void)!write(pipe_fds[1], &byte, 1);
    errno = saved;
}

int attnchat_signal_catch(int sig) {
    pthread_once(&pipe_once, make_pipe);
    struct sigaction old;
    if (sigaction(sig, NULL, &old) != 0) return -1;
    if (old.sa_handler == SIG_IGN) return 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(sig, &action, NULL) != 0) return -1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    return 1;
}

void attnchat_signal_default(int sig) { signal(sig, SIG_DFL); }

void attnchat_signal_exit_on_arrival(void) { atomic_store(&exiting, 1); }

int attnchat_signal_take(int sig) {
    if (sig <= 0 || sig >= 65) return 0;
    return atomic_exchange(&pending[sig], 0);
}

int attnchat_signal_fd(void) {
    pthread_once(&pipe_once, make_pipe);
    return pipe_fds[0];
}

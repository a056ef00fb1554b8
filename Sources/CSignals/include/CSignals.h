// The one signal handler attnchat installs: async-signal-safe, so it only records the signal
// (a flag per signal) and writes its number to a pipe that a dispatch source reads. A real
// handler rather than SIG_IGN plus a dispatch signal source: with SIG_IGN, a thread that does
// not block the signal (OpenBLAS's pool is started before main) throws it away, and the signal
// is sometimes lost.
#ifndef CSIGNALS_H
#define CSIGNALS_H

/// Installs the handler for `sig` (SA_RESTART) and unblocks it in the calling thread. A signal
/// ignored on entry (nohup) stays ignored: returns 0 then, 1 when installed, -1 on failure.
int attnchat_signal_catch(int sig);

/// Puts `sig` back to its default action (SIGTSTP, to stop the process for real).
void attnchat_signal_default(int sig);

/// From now on SIGINT, SIGTERM and SIGHUP end the process at once, _exit(128 + sig): for a
/// process on its way out with everything saved, so that a late signal still sets the status.
void attnchat_signal_exit_on_arrival(void);

/// True (and cleared) when `sig` arrived since the last call.
int attnchat_signal_take(int sig);

/// The pipe's read end (non-blocking): one byte per signal caught, its number.
int attnchat_signal_fd(void);

#endif

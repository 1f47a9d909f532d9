/* Stopping a background thread that waits on a condition variable. */
#ifndef MN_UTIL_STOP_H
#define MN_UTIL_STOP_H

#include <pthread.h>
#include <stdbool.h>

/* Sets *stopping under mu and wakes every waiter on wake (NULL: none, the
 * thread looks at the flag by itself); the caller then joins the thread. */
static inline void mn_signal_stop(pthread_mutex_t *mu, bool *stopping, pthread_cond_t *wake) {
  pthread_mutex_lock(mu);
  *stopping = true;
  if (wake)
    pthread_cond_broadcast(wake);
  pthread_mutex_unlock(mu);
}

#endif

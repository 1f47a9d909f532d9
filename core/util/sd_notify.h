/* The service manager's readiness protocol (systemd's sd_notify): one
 * datagram to the unix socket named by $NOTIFY_SOCKET ("@" starts an
 * abstract name). Without the variable it does nothing, so the daemon
 * behaves the same under any other supervisor. deploy/systemd's unit is
 * Type=notify (docs/deploy.md). */
#ifndef MN_UTIL_SD_NOTIFY_H
#define MN_UTIL_SD_NOTIFY_H

/* Sends STATE ("READY=1", "STOPPING=1", "STATUS=..."). 0 when sent or when
 * there is no service manager to tell; -1 when the socket refused it. */
int mn_sd_notify(const char *state);

#endif

/*
 * notify: messages arrive on a real AF_UNIX datagram socket the test binds
 * (path and abstract), the watchdog timer pings at half of WATCHDOG_USEC on
 * a real event loop, and without $NOTIFY_SOCKET everything is a no-op.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include <event2/event.h>

#include "notify.h"

struct listener {
	int	 fd;
	char	 path[108];
};

static void
listener_open(struct listener *l, int abstract)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	char			 name[64];

	snprintf(name, sizeof(name), "/tmp/test_notify.%d.%ld", (int)getpid(),
	    (long)random());
	l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(l->fd >= 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (abstract) {
		/* "@name" in NOTIFY_SOCKET: a leading NUL on the wire. */
		snprintf(l->path, sizeof(l->path), "@%s", name + 5);
		memcpy(sun.sun_path + 1, name + 5, strlen(name + 5));
		len = offsetof(struct sockaddr_un, sun_path) + 1 +
		    strlen(name + 5);
	} else {
		snprintf(l->path, sizeof(l->path), "%s", name);
		memcpy(sun.sun_path, name, strlen(name));
		len = sizeof(sun);
	}
	assert_int_equal(bind(l->fd, (struct sockaddr *)&sun, len), 0);
	setenv("NOTIFY_SOCKET", l->path, 1);
}

static void
listener_close(struct listener *l)
{
	close(l->fd);
	if (l->path[0] == '/')
		unlink(l->path);
	unsetenv("NOTIFY_SOCKET");
}

/* Next datagram, or NULL after timeout_ms. */
static char *
listener_recv(struct listener *l, int timeout_ms)
{
	struct timeval	 tv;
	static char	 buf[4096];
	ssize_t		 n;

	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(l->fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

static void
test_messages(void **state)
{
	struct listener		 l;
	struct timespec		 ts;
	unsigned long long	 usec, now;
	char			*m;

	listener_open(&l, 0);
	assert_true(notify_enabled());
	notify_ready();
	assert_string_equal(listener_recv(&l, 2000), "READY=1");
	notify_status("%d scheduled; next %s", 2, "network-changes");
	assert_string_equal(listener_recv(&l, 2000),
	    "STATUS=2 scheduled; next network-changes");

	notify_reloading();
	m = listener_recv(&l, 2000);
	assert_non_null(m);
	assert_int_equal(sscanf(m, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec),
	    1);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	assert_true(usec <= now && now - usec < 5000000);

	notify_stopping();
	assert_string_equal(listener_recv(&l, 2000), "STOPPING=1");
	notify_extend_timeout(35);
	assert_string_equal(listener_recv(&l, 2000),
	    "EXTEND_TIMEOUT_USEC=35000000");
	notify_extend_timeout(0);		/* nothing to say */
	assert_null(listener_recv(&l, 100));
	listener_close(&l);
}

static void
test_abstract_socket(void **state)
{
	struct listener	 l;

	listener_open(&l, 1);
	notify_ready();
	assert_string_equal(listener_recv(&l, 2000), "READY=1");
	listener_close(&l);
}

static void
test_watchdog(void **state)
{
	struct listener		 l;
	struct event_base	*base;
	struct timeval		 tv = { 0, 550000 };
	int			 n = 0;
	char			*m;

	listener_open(&l, 0);
	base = event_base_new();
	assert_non_null(base);

	/* Not for us: WATCHDOG_PID names another process. */
	setenv("WATCHDOG_USEC", "200000", 1);
	setenv("WATCHDOG_PID", "1", 1);
	assert_true(notify_watchdog_init(base) == 0);
	assert_null(listener_recv(&l, 100));

	/* For us: a ping at once, then every 100 ms while the loop runs. */
	unsetenv("WATCHDOG_PID");
	assert_true(notify_watchdog_init(base) == 0.1);
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	while ((m = listener_recv(&l, 50)) != NULL) {
		assert_string_equal(m, "WATCHDOG=1");
		n++;
	}
	/* 1 immediate + 5 in 550 ms; a loaded machine may run late. */
	assert_true(n >= 3 && n <= 7);

	/* Stopped: the loop runs, nothing more arrives. */
	notify_watchdog_stop();
	notify_watchdog_stop();			/* twice is fine */
	tv.tv_usec = 300000;
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	assert_null(listener_recv(&l, 50));

	unsetenv("WATCHDOG_USEC");
	event_base_free(base);
	listener_close(&l);
}

static void
test_disabled(void **state)
{
	struct event_base	*base = event_base_new();
	struct listener		 l;

	/* A listener exists, but NOTIFY_SOCKET does not point at it. */
	listener_open(&l, 0);
	unsetenv("NOTIFY_SOCKET");
	assert_false(notify_enabled());
	setenv("WATCHDOG_USEC", "200000", 1);
	notify_ready();
	notify_status("x");
	notify_reloading();
	notify_stopping();
	notify_watchdog_ping();
	assert_true(notify_watchdog_init(base) == 0);
	assert_null(listener_recv(&l, 100));
	unsetenv("WATCHDOG_USEC");

	/* A socket that is gone: no crash, no error to the caller. */
	setenv("NOTIFY_SOCKET", "/nonexistent/notify.sock", 1);
	notify_ready();
	notify_status("still fine");
	unsetenv("NOTIFY_SOCKET");
	listener_close(&l);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_disabled),
	};

	srandom(getpid() ^ time(NULL));
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* d: a daemon header. */

# mailsift - plain Makefile (see README.md "Building").
#
#   make                 build build/mailsift
#   make check           unit tests + integration tests, built with ASan/UBSan
#   make unit            unit tests only (add SAN=1 for sanitizers)
#   make valgrind        unit tests under valgrind
#   make fuzz            build and run the libFuzzer targets for a bounded time
#   make soak            10,000 messages through faults and kills (tests/bench/soak)
#   make roundcube-check Roundcube in headless Chromium on mailsift managesieve
#   make install         install to $(DESTDIR)$(PREFIX)
#   make deb             the Debian package, in build/ (packaging/debian)
#   make deps            apt-get install the Debian packages needed (root)
#   make demo            throwaway Dovecot with sample mail, sorted by mailsift
#
# Sources are picked up by directory, so a new module needs no Makefile edit:
# agent/*.c, sieve/*.c and state/*.c form the library, agent/main.c the binary,
# tests/unit/check_*.c one check runner each, tests/fuzz/fuzz_*.c one fuzzer each.
# The IMAP store (IMAP_SRC) is built apart as mailsift-imap.so, loaded by
# agent/account.c only by the commands that talk to a server, so that the
# classifier's commands do not pay for loading libetpan and GnuTLS.

include packaging/deps.mk

PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib/mailsift
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/mailsift
UNITDIR  ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
CC       ?= cc
PKGS      = json-c sqlite3
CFLAGS   ?= -O2 -g
WARN      = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS += -I. $(shell pkg-config --cflags $(PKGS) gnutls)
# libsieve runs only in the forked child that evaluates one message
# (sieve/engine_libsieve.c): as a shared library, every child bound its
# ~70 imports lazily again, a tenth of the child's time.  Linked in and
# bound when the binary starts (BIND_NOW), they are resolved once.
LIBS      = -l:libsieve.a $(shell pkg-config --libs $(PKGS)) -lm -ldl
BIND_NOW  = -Wl,-z,now
# libetpan: link -letpan only; its .pc leaks Debian build flags (see README).
IMAP_LIBS = -letpan $(shell pkg-config --libs gnutls)
CHECK_LIBS = $(shell pkg-config --libs check)

ifeq ($(SAN),1)
BUILD    ?= build/san
SANFLAGS  = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CFLAGS    = -O1 -g
else
BUILD    ?= build
SANFLAGS  =
endif

IMAP_SRC = agent/store_imap.c agent/imap_stream.c agent/imap_safe.c \
	   agent/tls_verify.c agent/imap_login.c agent/tls_server.c
IMAP_OBJ = $(IMAP_SRC:%.c=$(BUILD)/pic/%.o)
LIB_SRC  = $(filter-out agent/main.c $(IMAP_SRC),$(wildcard agent/*.c sieve/*.c state/*.c))
LIB_OBJ  = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC = $(wildcard tests/unit/check_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
ITEST_SRC = $(wildcard tests/integration/*.c)
ITEST_BIN = $(ITEST_SRC:tests/integration/%.c=$(BUILD)/itests/%)
FUZZ_SRC = $(wildcard tests/fuzz/fuzz_*.c)
VERSION  = $(shell cat VERSION 2>/dev/null || echo 0.0.0)

.PHONY: deps all all-tests unit check integration valgrind fuzz install deb demo bench soak clean roundcube-check
all: $(BUILD)/mailsift

DEFS = -DMAILSIFT_VERSION='"$(VERSION)"' -DMAILSIFT_LIBDIR='"$(LIBDIR)"'

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) $(CPPFLAGS) $(DEFS) -MMD -MP -c -o $@ $<

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) $(CPPFLAGS) $(DEFS) -fPIC -MMD -MP -c -o $@ $<

$(BUILD)/libmailsift.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# For tests that use the IMAP store directly.
$(BUILD)/libmailsift-imap.a: $(IMAP_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The module resolves log, memory and mUTF-7 functions in the executable,
# which therefore carries the whole library and exports its symbols.
$(BUILD)/mailsift-imap.so: $(IMAP_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -shared -o $@ $^ $(IMAP_LIBS)

$(BUILD)/mailsift: $(BUILD)/obj/agent/main.o $(BUILD)/libmailsift.a $(BUILD)/mailsift-imap.so
	$(CC) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) $(BIND_NOW) -rdynamic -o $@ $(BUILD)/obj/agent/main.o \
		-Wl,--whole-archive $(BUILD)/libmailsift.a -Wl,--no-whole-archive $(LIBS)

# tests/bench/sieve's program, linked as the binary is.
$(BUILD)/bench/sieve_bench: tests/bench/sieve_bench.c $(BUILD)/libmailsift.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) $(CPPFLAGS) $(LDFLAGS) $(BIND_NOW) -o $@ $< \
		$(BUILD)/libmailsift.a $(LIBS)

TEST_LIBS = $(BUILD)/libmailsift-imap.a $(BUILD)/libmailsift.a $(LIBS) $(IMAP_LIBS) $(CHECK_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libmailsift.a $(BUILD)/libmailsift-imap.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) $(CPPFLAGS) $(shell pkg-config --cflags check) \
		-DFIXTURES='"$(CURDIR)/tests/fixtures"' -o $@ $< $(TEST_LIBS)

# C programs driven by the integration scripts (they need a live server).
$(BUILD)/itests/%: tests/integration/%.c $(BUILD)/libmailsift.a $(BUILD)/libmailsift-imap.a
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) $(CPPFLAGS) $(shell pkg-config --cflags check) \
		-o $@ $< $(TEST_LIBS)

unit: $(UNIT_BIN) $(BUILD)/mailsift
	@tests/unit/run-unit $(UNIT_BIN)

# The whole suite, as CI runs it: sanitizer build; unit, integration
# (real Dovecot) and Sieve conformance (Pigeonhole) tests; one summary.
check:
	$(MAKE) SAN=1 all-tests
	BUILD=$(CURDIR)/build/san tests/run-all

all-tests: $(BUILD)/mailsift $(UNIT_BIN) $(ITEST_BIN)

integration: $(BUILD)/mailsift $(ITEST_BIN)
	BUILD=$(CURDIR)/$(BUILD) tests/integration/run

valgrind: $(UNIT_BIN)
	@VALGRIND=1 tests/unit/run-unit $(UNIT_BIN)

# A real browser on the ManageSieve service (about a minute; needs the
# roundcube, roundcube-plugins, roundcube-sqlite3, php-cli, php-sqlite3,
# chromium, chromium-driver and python3-selenium packages).  Keeps the
# screenshot in $(BUILD)/roundcube-filters.png.
roundcube-check: $(BUILD)/mailsift $(ITEST_BIN)
	BUILD=$(CURDIR)/$(BUILD) T_TIMEOUT=400 \
	RC_SCREENSHOT=$(CURDIR)/$(BUILD)/roundcube-filters.png \
	tests/integration/run rc_roundcube

fuzz:
	@tests/fuzz/run-fuzz $(FUZZ_SRC)

demo: $(BUILD)/mailsift
	MAILSIFT=$(CURDIR)/$(BUILD)/mailsift tests/demo/demo

# Benchmarks print figures; run them on the normal build (RSS under ASan
# means nothing).  The classifier benchmark fetches its corpus from npm.
# Hours of faults, kills and mail: every message must end up in place once.
soak: $(BUILD)/mailsift
	tests/bench/soak

bench: $(BUILD)/mailsift
	MAILSIFT=$(CURDIR)/$(BUILD)/mailsift tests/bench/latency
	MAILSIFT=$(CURDIR)/$(BUILD)/mailsift tests/bench/junk-drag
	MAILSIFT=$(CURDIR)/$(BUILD)/mailsift tests/bench/classifier
	MAILSIFT=$(CURDIR)/$(BUILD)/mailsift tests/bench/fleet

# The example configuration goes to /etc/mailsift under a name that does
# not end in .json, so that nothing takes it for a mailbox.
install: $(BUILD)/mailsift
	install -D -m 0755 $(BUILD)/mailsift $(DESTDIR)$(PREFIX)/bin/mailsift
	install -D -m 0644 $(BUILD)/mailsift-imap.so $(DESTDIR)$(LIBDIR)/mailsift-imap.so
	install -D -m 0644 packaging/mailsift.1 $(DESTDIR)$(MANDIR)/man1/mailsift.1
	install -D -m 0644 packaging/mailsift.json.5 $(DESTDIR)$(MANDIR)/man5/mailsift.json.5
	install -D -m 0644 packaging/mailsift@.service $(DESTDIR)$(UNITDIR)/mailsift@.service
	install -D -m 0644 packaging/mailsift-managesieve.service $(DESTDIR)$(UNITDIR)/mailsift-managesieve.service
	install -D -m 0644 packaging/config.example.json $(DESTDIR)$(SYSCONFDIR)/mailsift/example.json.sample
	install -D -m 0644 packaging/managesieve.example.json $(DESTDIR)$(SYSCONFDIR)/mailsift/managesieve.json.sample
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -D -m 0644 sieve/README.md $(DESTDIR)$(DOCDIR)/README.sieve.md

# Built from a copy of this tree (build/deb), which stays clean.
deb:
	packaging/make-deb

deps:
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEPS)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(IMAP_OBJ:.o=.d) $(BUILD)/obj/agent/main.d

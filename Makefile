# SPDX-License-Identifier: ISC
# Copyright 2026 The rtlane authors
#
# The one, non-recursive Makefile.  It works straight from a clone with
# pkg-config; ./configure (from configure.ac) only writes config.mk, which
# overrides the defaults below.

-include config.mk

VERSION     ?= 0.1.0
SOVERSION   ?= 0
PREFIX      ?= /usr/local
prefix      ?= $(PREFIX)
exec_prefix ?= $(prefix)
BINDIR      ?= $(exec_prefix)/bin
LIBDIR      ?= $(exec_prefix)/lib
INCLUDEDIR  ?= $(prefix)/include
DATADIR     ?= $(prefix)/share
MANDIR      ?= $(DATADIR)/man
# Example processor plug-ins, and the systemd user unit
PLUGINDIR   ?= $(LIBDIR)/rtlane/inserts
USERUNITDIR ?= $(prefix)/lib/systemd/user
DESTDIR     ?=

PKG_CONFIG  ?= pkg-config
BUILD       ?= build
OPT         ?= -O2 -g
SAN         ?=

# Strict by default, fatal on request (WERROR=1): a new compiler's new
# warning should not break a packager's build.
WARNINGS = -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion \
  -Wdouble-promotion -Wstrict-prototypes -Wmissing-prototypes \
  -Wpointer-arith -Wcast-qual -Wformat=2 -Wundef -Wvla -Wwrite-strings
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

ifeq ($(SAN),asan)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else ifeq ($(SAN),tsan)
SANFLAGS = -fsanitize=thread -fno-omit-frame-pointer
else
SANFLAGS =
endif

pc = $(shell $(PKG_CONFIG) $(1) $(2) 2>/dev/null)

LIB_PKGS    = liburcu-memb
DAEMON_PKGS = jack liblo liburcu-memb sndfile
TEST_PKGS   = check jack
BENCH_PKGS  = ck jack

BASE_CFLAGS = -std=c11 $(OPT) $(WARNINGS) $(SANFLAGS) -pthread -fPIC \
  -fvisibility=hidden $(CFLAGS)
BASE_CPPFLAGS = -Iinclude -Isrc $(CPPFLAGS)
BASE_LDFLAGS  = $(SANFLAGS) -pthread $(LDFLAGS)

LIB_SRCS    = $(sort $(wildcard src/*.c))
DAEMON_SRCS = $(sort $(wildcard src/daemon/*.c))
CTL_SRCS    = $(sort $(wildcard src/ctl/*.c))
UNIT_SRCS   = $(sort $(wildcard tests/test_*.c))
DAEMON_UNIT_SRCS = $(sort $(wildcard tests/daemon/test_*.c))
TEST_SUPPORT_SRCS = $(sort $(wildcard tests/support/*.c))
HEADERS     = $(sort $(wildcard include/rtlane/*.h))
EXAMPLE_SRCS = $(sort $(wildcard examples/*.c))
TOOL_SRCS   = $(sort $(wildcard tests/tools/*.c))
PRELOAD_SRCS = $(sort $(wildcard tests/preload/*.c))
TEST_PLUGIN_SRCS = $(sort $(wildcard tests/plugins/*.c))
BENCH_SRCS  = $(sort $(wildcard bench/*.c))

LIB_OBJS    = $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
DAEMON_OBJS = $(DAEMON_SRCS:%.c=$(BUILD)/obj/%.o)
CTL_OBJS    = $(CTL_SRCS:%.c=$(BUILD)/obj/%.o)
UNIT_OBJS   = $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o) $(TEST_SUPPORT_SRCS:%.c=$(BUILD)/obj/%.o)
# The daemon's objects without main(), for its unit runner.
DAEMON_LIB_OBJS = $(filter-out %/main.o,$(DAEMON_OBJS))
DAEMON_UNIT_OBJS = $(DAEMON_UNIT_SRCS:%.c=$(BUILD)/obj/%.o) \
  $(filter-out %/unit_main.o,$(TEST_SUPPORT_SRCS:%.c=$(BUILD)/obj/%.o)) \
  $(BUILD)/obj/tests/daemon/unit_main.o

SONAME      = librtlane.so.$(SOVERSION)
SHARED_LIB  = $(BUILD)/librtlane.so.$(VERSION)
STATIC_LIB  = $(BUILD)/librtlane.a
DAEMON      = $(BUILD)/rtlane
CTL         = $(BUILD)/rtlane-ctl
UNIT_RUNNER = $(BUILD)/tests/unit
DAEMON_UNIT_RUNNER = $(BUILD)/tests/daemon-unit
# examples/insert_*.c are processor plug-ins (rtlane --insert FILE.so)
PLUGIN_SRCS = $(filter examples/insert_%.c,$(EXAMPLE_SRCS))
PLUGINS     = $(PLUGIN_SRCS:%.c=$(BUILD)/%.so)
EXAMPLES    = $(patsubst %.c,$(BUILD)/%,$(filter-out $(PLUGIN_SRCS),$(EXAMPLE_SRCS))) $(PLUGINS)
BENCHES     = $(BENCH_SRCS:%.c=$(BUILD)/%)
TOOLS       = $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tests/%)
PRELOADS    = $(PRELOAD_SRCS:tests/preload/%.c=$(BUILD)/tests/%.so) \
  $(TEST_PLUGIN_SRCS:tests/plugins/%.c=$(BUILD)/tests/plugins/%.so)

# rtlane-osc(7), written by src/doc/oscdoc.c from the daemon's tables
OSCDOC      = $(BUILD)/doc/oscdoc
OSC_MAN     = $(BUILD)/rtlane-osc.7

ifneq ($(DAEMON_SRCS),)
ALL_DAEMON = $(DAEMON) $(OSC_MAN)
endif

.PHONY: all lib daemon examples deps check check-unit check-headers check-symbols check-rtsafe \
  check-install check-integration check-pipewire check-asan check-tsan check-format check-cppcheck format \
  install uninstall clean bench demo deb check-deb check-man

all: lib $(ALL_DAEMON) $(CTL) examples

lib: $(SHARED_LIB) $(STATIC_LIB) $(BUILD)/librtlane.so

examples: $(EXAMPLES)

# --- objects -------------------------------------------------------------

$(BUILD)/obj/src/daemon/%.o: src/daemon/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) -DRTL_VERSION=\"$(VERSION)\" $(call pc,--cflags,$(DAEMON_PKGS)) $(BASE_CFLAGS) -MMD -MP -c $< -o $@

# rtlane-ctl, the command-line client: liblo only.
$(BUILD)/obj/src/ctl/%.o: src/ctl/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) -DRTL_VERSION=\"$(VERSION)\" $(call pc,--cflags,liblo) $(BASE_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/src/%.o: src/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(call pc,--cflags,$(LIB_PKGS)) $(BASE_CFLAGS) -MMD -MP -c $< -o $@

# Tests use Check's macros, which trip the stricter conversion warnings.
TEST_CFLAGS = $(filter-out -Wconversion -Wsign-conversion -Wmissing-prototypes -Wdouble-promotion,$(BASE_CFLAGS))

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) -Itests $(call pc,--cflags,$(TEST_PKGS) $(LIB_PKGS)) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

# The daemon's suites see its headers and their dependencies.
$(BUILD)/obj/tests/daemon/%.o: tests/daemon/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) -Itests -Isrc/daemon $(call pc,--cflags,$(TEST_PKGS) $(DAEMON_PKGS)) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

# --- library -------------------------------------------------------------

$(SHARED_LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -Wl,--as-needed \
	  $(BASE_LDFLAGS) -o $@ $(LIB_OBJS) $(call pc,--libs,$(LIB_PKGS)) -lm -ldl

$(BUILD)/librtlane.so: $(SHARED_LIB)
	ln -sf librtlane.so.$(VERSION) $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

$(STATIC_LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJS)

# --- daemon, examples, benchmarks ----------------------------------------

# Bind every symbol at start-up (-z now) so the audio thread never runs the
# dynamic linker's lazy resolution.
$(DAEMON): $(DAEMON_OBJS) $(STATIC_LIB)
	$(CC) $(BASE_LDFLAGS) -Wl,-z,now -o $@ $(DAEMON_OBJS) $(STATIC_LIB) \
	  $(call pc,--libs,$(DAEMON_PKGS)) -lm -ldl

$(CTL): $(CTL_OBJS)
	$(CC) $(BASE_LDFLAGS) -o $@ $(CTL_OBJS) $(call pc,--libs,liblo)

$(BUILD)/examples/%: examples/%.c $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(call pc,--cflags,jack $(LIB_PKGS)) $(BASE_CFLAGS) -o $@ $< \
	  $(STATIC_LIB) $(BASE_LDFLAGS) $(call pc,--libs,jack $(LIB_PKGS)) -lm -ldl

$(BUILD)/examples/%.so: examples/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(BASE_CFLAGS) -shared -o $@ $< $(BASE_LDFLAGS) -lm

$(BUILD)/bench/%: bench/%.c $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(call pc,--cflags,$(BENCH_PKGS) $(LIB_PKGS)) \
	  $(filter-out -Wcast-qual -Wconversion -Wsign-conversion,$(BASE_CFLAGS)) -o $@ $< \
	  $(STATIC_LIB) $(BASE_LDFLAGS) $(call pc,--libs,$(BENCH_PKGS) $(LIB_PKGS) liburcu-cds liburcu) -lm

# rtlane-osc(7): a program linked with the daemon's objects (without main)
# prints every address of its parameter and command tables as troff.
$(BUILD)/obj/src/doc/%.o: src/doc/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) -DRTL_VERSION=\"$(VERSION)\" $(call pc,--cflags,$(DAEMON_PKGS)) $(BASE_CFLAGS) -MMD -MP -c $< -o $@

$(OSCDOC): $(BUILD)/obj/src/doc/oscdoc.o $(DAEMON_LIB_OBJS) $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $< $(DAEMON_LIB_OBJS) $(STATIC_LIB) \
	  $(call pc,--libs,$(DAEMON_PKGS)) -lm -ldl

$(OSC_MAN): $(OSCDOC)
	$(OSCDOC) > $@.tmp
	mv $@.tmp $@

# --- tests ---------------------------------------------------------------

# The unit runner holds one Check suite per tests/test_<module>.c; each file
# defines rtl_suite_<module>(), listed here so adding a file adds a suite.
$(BUILD)/tests/suites.h: $(UNIT_SRCS) Makefile
	@mkdir -p $(@D)
	@for f in $(UNIT_SRCS); do n=$${f#tests/test_}; echo "RTL_SUITE($${n%.c})"; done > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(BUILD)/obj/tests/support/unit_main.o: $(BUILD)/tests/suites.h
$(BUILD)/obj/tests/support/unit_main.o: BASE_CPPFLAGS += -I$(BUILD)/tests

$(UNIT_RUNNER): $(UNIT_OBJS) $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $(UNIT_OBJS) $(STATIC_LIB) \
	  $(call pc,--libs,$(TEST_PKGS) $(LIB_PKGS)) -lm -ldl

# A second runner for the daemon's modules (state, options, mixer, request,
# constructors), linked with the daemon's objects except main().
$(BUILD)/tests/daemon/suites.h: $(DAEMON_UNIT_SRCS) Makefile
	@mkdir -p $(@D)
	@for f in $(DAEMON_UNIT_SRCS); do n=$${f#tests/daemon/test_}; echo "RTL_SUITE(daemon_$${n%.c})"; done > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(BUILD)/obj/tests/daemon/unit_main.o: tests/support/unit_main.c $(BUILD)/tests/daemon/suites.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) -I$(BUILD)/tests/daemon $(call pc,--cflags,$(TEST_PKGS)) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

$(DAEMON_UNIT_RUNNER): $(DAEMON_UNIT_OBJS) $(DAEMON_LIB_OBJS) $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_LDFLAGS) -o $@ $(DAEMON_UNIT_OBJS) $(DAEMON_LIB_OBJS) $(STATIC_LIB) \
	  $(call pc,--libs,$(TEST_PKGS) $(DAEMON_PKGS)) -lm -ldl

# Test programs: JACK clients that feed and capture signals, and LD_PRELOAD
# guards (for example one that fails when the process thread allocates).
$(BUILD)/tests/%: tests/tools/%.c $(STATIC_LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) -Itests $(call pc,--cflags,jack liblo sndfile $(LIB_PKGS)) $(TEST_CFLAGS) -o $@ $< \
	  $(STATIC_LIB) $(BASE_LDFLAGS) $(call pc,--libs,jack liblo sndfile $(LIB_PKGS)) -lm -ldl

# Inserts that only the tests load.
$(BUILD)/tests/plugins/%.so: tests/plugins/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(TEST_CFLAGS) -shared -o $@ $< $(BASE_LDFLAGS)

$(BUILD)/tests/%.so: tests/preload/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CPPFLAGS) $(TEST_CFLAGS) -shared -o $@ $< $(BASE_LDFLAGS) -ldl

deps:
	@scripts/install-deps

check: deps
	@$(MAKE) --no-print-directory check-headers check-symbols check-rtsafe check-man check-format check-cppcheck check-install check-unit check-integration

# Install into a staging tree and build a program from the installed headers,
# pkg-config file and shared library alone.
STAGE = $(abspath $(BUILD))/stage
check-install:
	@rm -rf $(STAGE)
	@$(MAKE) --no-print-directory install DESTDIR=$(STAGE) PREFIX=/usr LIBDIR=/usr/lib >/dev/null
	@PKG_CONFIG_PATH=$(STAGE)/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$(STAGE) \
	  sh -c '$(CC) -std=c11 -Wall -Werror tests/install/consumer.c -o $(BUILD)/consumer \
	  $$($(PKG_CONFIG) --cflags rtlane) $$($(PKG_CONFIG) --libs rtlane)'
	@LD_LIBRARY_PATH=$(STAGE)/usr/lib $(BUILD)/consumer

# Only the public API leaves the shared library: everything else is hidden.
check-symbols: $(SHARED_LIB)
	@bad=$$(nm -D --defined-only $(SHARED_LIB) | awk '$$2 ~ /^[TDBRVW]$$/ && $$3 !~ /^rtl_/ {print $$3}'); \
	if [ -n "$$bad" ]; then echo "exported non-API symbols:" $$bad; exit 1; fi; \
	nm -D --defined-only $(SHARED_LIB) | awk '$$3 ~ /^rtl_/ {print $$3}' | sort > $(BUILD)/symbols.so; \
	sed -n 's/^ \(rtl_[A-Za-z0-9_]*\)@Base .*/\1/p' debian/librtlane0.symbols | sort > $(BUILD)/symbols.deb; \
	if ! diff -u $(BUILD)/symbols.deb $(BUILD)/symbols.so; then \
	  echo "check-symbols: debian/librtlane0.symbols must list exactly the exported API (- listed, + exported)"; exit 1; fi; \
	echo "check-symbols: $$(nm -D --defined-only $(SHARED_LIB) | grep -c ' T rtl_') rtl_ functions exported, nothing else, as debian/librtlane0.symbols lists"

# The man pages: rtlane(1) and rtlane-ctl(1) document every option their
# program's --help lists and no other, and the pages format without a
# warning (scripts/check-man).
check-man: $(DAEMON) $(CTL) $(OSC_MAN)
	@scripts/check-man $(DAEMON) docs/rtlane.1
	@scripts/check-man $(CTL) docs/rtlane-ctl.1
	@scripts/check-man - $(OSC_MAN)

# Every function a header declares RTL_RT_API is called in tests/test_rtsafe.c
# with the allocation trap armed, or this fails and names the ones that are not.
check-rtsafe:
	@scripts/check-rtsafe tests/test_rtsafe.c $(HEADERS)

check-headers: $(HEADERS:include/rtlane/%.h=$(BUILD)/hdrtest/%.ok)

# Each public header must compile alone, in strict ISO C11.
$(BUILD)/hdrtest/%.ok: include/rtlane/%.h
	@mkdir -p $(@D)
	@printf '#include <rtlane/%s.h>\ntypedef int rtl_header_test;\n' $* > $(BUILD)/hdrtest/$*.c
	$(CC) -std=c11 -pedantic -Werror -Wall -Wextra -Wconversion -Wshadow -Wstrict-prototypes -Iinclude -fsyntax-only $(BUILD)/hdrtest/$*.c
	@touch $@

check-unit: $(UNIT_RUNNER) $(DAEMON_UNIT_RUNNER) $(PLUGINS)
	$(UNIT_RUNNER)
	$(DAEMON_UNIT_RUNNER)

INTEGRATION_TESTS = $(sort $(wildcard tests/integration/test_*.sh))
check-integration: all $(TOOLS) $(PRELOADS)
	@if [ -n "$(INTEGRATION_TESTS)" ]; then \
	  RTLANE_BUILD=$(BUILD) tests/integration/run $(INTEGRATION_TESTS); fi

# The same daemon tests on PipeWire's JACK layer: each test starts its own
# private PipeWire and WirePlumber (a private session bus and
# XDG_RUNTIME_DIR, the Dummy-Driver, no devices) and runs every JACK client
# on PipeWire's libjack, as pw-jack does.
check-pipewire: all $(TOOLS) $(PRELOADS)
	@scripts/install-deps --pipewire
	@RTLANE_SERVER=pipewire RTLANE_BUILD=$(BUILD) tests/integration/run $(INTEGRATION_TESTS)

# Style, as .clang-format says, and cppcheck's warnings: both must be
# clean.  `make format` rewrites the tree in place.
FORMAT_SRCS = $(sort $(wildcard include/rtlane/*.h src/*.c src/*.h src/daemon/*.c src/doc/*.c \
  src/daemon/*.h src/ctl/*.c src/ctl/*.h tests/*.c tests/*/*.c tests/*/*.h examples/*.c bench/*.c))
CPPCHECK_FLAGS = --quiet --error-exitcode=1 --std=c11 --inline-suppr \
  --enable=warning,portability,performance --suppress=missingIncludeSystem \
  --suppress='unknownMacro:bench/*' -Iinclude -Isrc -Isrc/daemon -Itests

check-format:
	@clang-format --dry-run --Werror $(FORMAT_SRCS)
	@echo "check-format: $(words $(FORMAT_SRCS)) files as .clang-format says"

format:
	clang-format -i $(FORMAT_SRCS)

check-cppcheck:
	@cppcheck $(CPPCHECK_FLAGS) src examples tests bench
	@echo "check-cppcheck: no warnings"

# Sanitizer passes run the unit and stress suites in their own build trees.
# TSan builds leave jack_ringbuffer out: its indices are not atomic.
check-asan: deps
	@CK_TIMEOUT_MULTIPLIER=4 $(MAKE) --no-print-directory BUILD=build/asan SAN=asan check-unit

check-tsan: deps
	@RTL_STRESS_DIVISOR=10 CK_TIMEOUT_MULTIPLIER=10 \
	  TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan.supp halt_on_error=1" $(MAKE) --no-print-directory BUILD=build/tsan SAN=tsan OPT="-O1 -g" check-unit

bench: deps
	@$(MAKE) --no-print-directory OPT="-O2 -g -DNDEBUG" $(BENCHES)
	@for b in $(BENCHES); do $$b || exit 1; done

demo: deps
	@$(MAKE) --no-print-directory all $(BUILD)/tests/rtl-osc $(BUILD)/tests/rtl-probe
	@RTLANE_BUILD=$(BUILD) scripts/demo

# Debian packages: dpkg-buildpackage -us -uc -b on a copy of the tree, the
# .debs into $(DEB_DIR).  check-deb lints them (no error, no warning),
# installs them into a fresh Debian chroot and uses them there.
DEB_DIR = $(BUILD)/deb
deb:
	@scripts/install-deps --deb
	@scripts/build-deb $(DEB_DIR)

check-deb: deb
	@tests/deb/check-deb $(DEB_DIR)

# --- install -------------------------------------------------------------

$(BUILD)/rtlane.pc: rtlane.pc.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(prefix)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	  -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(BUILD)/rtlane.service: data/rtlane.service.in Makefile
	@mkdir -p $(@D)
	sed -e 's|@BINDIR@|$(BINDIR)|' -e 's|@DATADIR@|$(DATADIR)|' $< > $@

install: all $(BUILD)/rtlane.pc $(BUILD)/rtlane.service
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/rtlane $(DESTDIR)$(BINDIR)
	install -m 644 $(HEADERS) $(DESTDIR)$(INCLUDEDIR)/rtlane/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf librtlane.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/librtlane.so
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	install -m 644 $(BUILD)/rtlane.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	if [ -f $(DAEMON) ]; then install -m 755 $(DAEMON) $(DESTDIR)$(BINDIR)/; fi
	install -m 755 $(CTL) $(DESTDIR)$(BINDIR)/
	if [ -f docs/rtlane.1 ]; then install -d $(DESTDIR)$(MANDIR)/man1 && \
	  install -m 644 docs/rtlane.1 docs/rtlane-ctl.1 $(DESTDIR)$(MANDIR)/man1/; fi
	if [ -f $(OSC_MAN) ]; then install -d $(DESTDIR)$(MANDIR)/man7 && \
	  install -m 644 $(OSC_MAN) $(DESTDIR)$(MANDIR)/man7/; fi
	install -d $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(USERUNITDIR) $(DESTDIR)$(DATADIR)/rtlane
	install -m 644 $(PLUGINS) $(DESTDIR)$(PLUGINDIR)/
	install -m 644 $(BUILD)/rtlane.service $(DESTDIR)$(USERUNITDIR)/
	install -m 644 data/rtlane.conf $(DESTDIR)$(DATADIR)/rtlane/

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/librtlane.so* $(DESTDIR)$(LIBDIR)/librtlane.a \
	  $(DESTDIR)$(LIBDIR)/pkgconfig/rtlane.pc $(DESTDIR)$(BINDIR)/rtlane \
	  $(DESTDIR)$(BINDIR)/rtlane-ctl $(DESTDIR)$(MANDIR)/man1/rtlane-ctl.1 \
	  $(DESTDIR)$(MANDIR)/man1/rtlane.1 $(DESTDIR)$(MANDIR)/man7/rtlane-osc.7 \
	  $(DESTDIR)$(USERUNITDIR)/rtlane.service $(DESTDIR)$(DATADIR)/rtlane/rtlane.conf \
	  $(addprefix $(DESTDIR)$(PLUGINDIR)/,$(notdir $(PLUGINS)))
	rm -rf $(DESTDIR)$(INCLUDEDIR)/rtlane

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

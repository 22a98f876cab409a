# kefu: build, test, install. SPDX-License-Identifier: MIT
#
#   make                 build the programs into build/default/
#   make check           build and run every test (unit, integration, fuzz corpus replay)
#   make check SAN=1     AddressSanitizer + UndefinedBehaviorSanitizer build, unit tests
#   make demo            a whole scripted support session on loopback
#   make bench           benchmarks next to their peers
#   make fuzz            each libFuzzer target for FUZZ_SECONDS (default 60)
#   make format / format-check
#   make install DESTDIR=... PREFIX=...
#   make man             the man pages (scdoc) into build/default/man/
#   make deb             Debian packages into build/deb/, checked by lintian
#   make clean

PREFIX ?= /usr/local
# The one version number: the programs' --version and the packages read it from here.
VERSION := $(shell sed -n 's/^\#define KF_VERSION "\(.*\)"$$/\1/p' proto/base/cli.h)
DESTDIR ?=
SAN ?= 0
FUZZ_SECONDS ?= 60

ifeq ($(SAN),1)
B ?= build/san
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT_FLAGS = -O1 -g
else
B ?= build/default
SAN_FLAGS =
OPT_FLAGS = -O2 -g -D_FORTIFY_SOURCE=2
endif

PKGS = libssh2 libuv openssl libarchive jansson expat libvncserver libvncclient libedit sqlite3 libpq \
       x11 xext xdamage xfixes xtst xrandr gio-2.0 gio-unix-2.0 libpipewire-0.3 libcurl

WARN_FLAGS = -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
             -Wold-style-definition -Wformat=2 -Wformat-security -Wpointer-arith \
             -Wwrite-strings -Wvla -Wundef -Wimplicit-fallthrough -Wmissing-declarations
# Recursive (=) so that pkg-config runs after 'deps' has installed what is missing.
CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -DKF_DATADIR='"$(PREFIX)/share/kefu"' \
             -DKF_LOCALEDIR='"$(PREFIX)/share/locale"' -DKF_BINDIR='"$(PREFIX)/bin"' -I. $(WARN_FLAGS) \
             $(OPT_FLAGS) $(SAN_FLAGS) \
             -fstack-protector-strong -fPIE -MMD -MP $(shell pkg-config --cflags $(PKGS)) \
             $(EXTRA_CFLAGS) $(CFLAGS)
LDFLAGS_ALL = $(SAN_FLAGS) -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(EXTRA_LDFLAGS) $(LDFLAGS)
LIBS_ALL = $(shell pkg-config --libs $(PKGS)) -lm

# Every program is a library of its own modules plus main.c, so that unit tests
# link the same objects the program runs.
PROTO_SRC   := $(wildcard proto/*.c proto/*/*.c)
AGENTD_SRC  := $(filter-out agentd/main.c agentd/window/%,$(wildcard agentd/*.c agentd/*/*.c))
# The customer's window (GTK 3) is a program of its own on the same core.
WINDOW_SRC  := $(wildcard agentd/window/*.c)
CONSOLE_SRC := $(filter-out console/main.c,$(wildcard console/*.c console/*/*.c))
PLUGIN_SRC  := $(filter-out diag-plugins/kefu-plugin/main.c,$(wildcard diag-plugins/kefu-plugin/*.c))
UNIT_SRC    := $(wildcard tests/unit/test-*.c)
UNIT_HELPER := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz-*.c)
TOOL_SRC    := $(wildcard tests/tools/*.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

LIB_PROTO   = $(B)/libkefu-proto.a
LIB_AGENTD  = $(B)/libkefu-agentd.a
LIB_CONSOLE = $(B)/libkefu-console.a
LIB_PLUGIN  = $(B)/libkefu-plugin.a
PROGRAMS    = $(B)/kefu-agentd $(B)/kefu-console $(B)/kefu-plugin
HELPER      = $(B)/kefu-helper
# Translations of the customer's text (agentd/po/LANG.po), built where gettext finds them.
PO_FILES    := $(wildcard agentd/po/*.po)
MO_FILES    = $(patsubst agentd/po/%.po,$(B)/locale/%/LC_MESSAGES/kefu.mo,$(PO_FILES))
GTK_CFLAGS  = $(patsubst -I%,-isystem %,$(shell pkg-config --cflags gtk+-3.0))
GTK_LIBS    = $(shell pkg-config --libs gtk+-3.0)
UNIT_TESTS  = $(patsubst tests/unit/%.c,$(B)/unit/%,$(UNIT_SRC))
TEST_TOOLS  = $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRC))

.PHONY: pot prefix-check all plugin-lib deps deps-test check unit-tests test-tools demo bench fuzz fuzz-build format format-check \
        install man deps-package deps-man deb clean
.DEFAULT_GOAL := all

all: $(PROGRAMS) $(HELPER) $(MO_FILES) plugin-lib

# Every shipped plugin carries the plugin library in its folder (and so in its signed
# package): the steps' sandbox shows them their own folder only. The copies are made
# here, never committed, so the library is written once.
PLUGIN_LIB_SRC := $(wildcard diag-plugins/lib/kefu_plugin_lib/*.py)
PLUGIN_LIB_STAMP = $(B)/plugin-lib.stamp
plugin-lib: $(PLUGIN_LIB_STAMP)
$(PLUGIN_LIB_STAMP): $(PLUGIN_LIB_SRC) diag-plugins/lib/sync $(wildcard diag-plugins/*/plugin.json)
	@mkdir -p $(@D)
	diag-plugins/lib/sync
	@touch $@

deps:
	@scripts/deps build

deps-test:
	@scripts/deps build test fuzz

# PREFIX is compiled in (where the shipped plugins are looked for): the stamp's
# content changes with it, and every object is rebuilt then, never otherwise.
PREFIX_STAMP = $(B)/prefix.stamp
$(PREFIX_STAMP): prefix-check
	@mkdir -p $(@D)
	@[ "$$(cat $@ 2>/dev/null)" = '$(PREFIX)' ] || echo '$(PREFIX)' > $@

$(B)/%.o: %.c $(PREFIX_STAMP) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIB_PROTO): $(call obj,$(PROTO_SRC))
$(LIB_AGENTD): $(call obj,$(AGENTD_SRC))
$(LIB_CONSOLE): $(call obj,$(CONSOLE_SRC))
$(LIB_PLUGIN): $(call obj,$(PLUGIN_SRC))
$(B)/lib%.a:
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/kefu-agentd: $(B)/agentd/main.o $(LIB_AGENTD) $(LIB_PROTO)
$(B)/kefu-console: $(B)/console/main.o $(LIB_CONSOLE) $(LIB_PROTO)
$(B)/kefu-plugin: $(B)/diag-plugins/kefu-plugin/main.o $(LIB_PLUGIN) $(LIB_PROTO)
$(PROGRAMS):
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)

$(B)/agentd/window/%.o: agentd/window/%.c $(PREFIX_STAMP) | deps
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(GTK_CFLAGS) -c -o $@ $<

$(HELPER): $(call obj,$(WINDOW_SRC)) $(LIB_AGENTD) $(LIB_PROTO)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(GTK_LIBS) $(LIBS_ALL)

$(B)/locale/%/LC_MESSAGES/kefu.mo: agentd/po/%.po
	@mkdir -p $(@D)
	msgfmt --check -o $@ $<

# The template of the customer's text, from every source that marks it.
POT_SOURCES = $(sort $(wildcard agentd/*.c agentd/*/*.c))
pot:
	xgettext --from-code=UTF-8 --language=C --keyword=_ --keyword=N_ \
	    --keyword=ngettext:1,2 --add-comments=TRANSLATORS: --package-name=kefu \
	    --msgid-bugs-address= --no-location --sort-output -o agentd/po/kefu.pot $(POT_SOURCES)
	@for po in $(PO_FILES); do msgmerge --quiet --update --backup=none --no-location \
	    --sort-output $$po agentd/po/kefu.pot; done

# Unit tests link every module library; archives pull in only what a test uses.
$(B)/unit/%: $(B)/tests/unit/%.o $(call obj,$(UNIT_HELPER)) $(LIB_AGENTD) $(LIB_CONSOLE) \
                   $(LIB_PLUGIN) $(LIB_PROTO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL) -lcmocka

unit-tests: $(UNIT_TESTS)

# Small programs the integration tests and benchmarks drive (peers, clients, probes).
$(B)/tools/%: $(B)/tests/tools/%.o $(LIB_AGENTD) $(LIB_CONSOLE) $(LIB_PLUGIN) $(LIB_PROTO)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)

# The Wayland test client is a GTK 3 program: only it compiles and links with GTK.
$(B)/tests/tools/wl-draw.o: EXTRA_CFLAGS += $(shell pkg-config --cflags gtk+-3.0)
$(B)/tools/wl-draw: LIBS_ALL += $(shell pkg-config --libs gtk+-3.0)

test-tools: $(TEST_TOOLS)

ifeq ($(SAN),1)
check: deps-test
	@$(MAKE) --no-print-directory SAN=1 unit-tests
	@/usr/bin/python3 tests/run --build $(B) --unit-only
else
check: deps-test
	@$(MAKE) --no-print-directory all unit-tests test-tools fuzz-build
	@/usr/bin/python3 tests/run --build $(B) --fuzz-build build/fuzz
endif

# Fuzz targets: clang, libFuzzer, ASan and UBSan, in a tree of their own.
FUZZ_B = build/fuzz
FUZZ_FLAGS = -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
fuzz-build: deps-test
	@[ -z "$(FUZZ_SRC)" ] || $(MAKE) --no-print-directory CC=clang B=$(FUZZ_B) OPT_FLAGS="-O1 -g" \
	    EXTRA_CFLAGS="$(FUZZ_FLAGS)" EXTRA_LDFLAGS="-fsanitize=fuzzer,address,undefined" \
	    $(patsubst tests/fuzz/%.c,$(FUZZ_B)/fuzz/%,$(FUZZ_SRC))

$(FUZZ_B)/fuzz/%: $(FUZZ_B)/tests/fuzz/%.o $(FUZZ_B)/libkefu-agentd.a \
                        $(FUZZ_B)/libkefu-console.a $(FUZZ_B)/libkefu-plugin.a \
                        $(FUZZ_B)/libkefu-proto.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(LIBS_ALL)

fuzz: fuzz-build
	@set -e; for src in $(FUZZ_SRC); do \
	    name=$$(basename $$src .c); \
	    mkdir -p $(FUZZ_B)/corpus/$$name tests/fuzz/corpus/$$name; \
	    echo "== $$name for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_B)/fuzz/$$name -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(FUZZ_B)/ \
	        $(FUZZ_B)/corpus/$$name tests/fuzz/corpus/$$name; \
	done

# The demo drives the programs and the test tools (fw-emu is its emulated firmware device).
demo: all test-tools
	@scripts/deps demo
	@if [ -x tests/demo/run-demo ]; then tests/demo/run-demo $(B); else \
	    echo "make demo: the scripted support session is not in this version yet" >&2; exit 1; fi

bench: all test-tools
	@scripts/deps bench
	@/usr/bin/python3 tests/bench/run --build $(B)

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_FILES) && echo "format-check: $(words $(FORMAT_FILES)) files formatted"

deps-package:
	@scripts/deps package

# The man pages need only scdoc of the package group.
deps-man:
	@command -v scdoc >/dev/null 2>&1 || scripts/deps package

# Man pages: packaging/man/NAME.SECTION.scd becomes $(B)/man/NAME.SECTION.
MAN_SRC   := $(wildcard packaging/man/*.scd)
MAN_PAGES := $(patsubst packaging/man/%.scd,$(B)/man/%,$(MAN_SRC))
man: $(MAN_PAGES)
$(B)/man/%: packaging/man/%.scd | deps-man
	@mkdir -p $(@D)
	scdoc < $< > $@.tmp && mv $@.tmp $@

# What the customer's window adds when it is built: the program, its desktop file (the
# kefu:// handler, only with the program it starts) and its translations. Each is
# installed only when present.
HELPER_DESKTOP = packaging/desktop/kefu-helper.desktop
POLKIT_POLICY  = packaging/polkit/org.kefu.agentd.plugin-step.policy

install: all man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/kefu/relay \
	    $(DESTDIR)$(PREFIX)/share/kefu/plugins $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/polkit-1/actions
	install -m 0755 $(PROGRAMS) $(DESTDIR)$(PREFIX)/bin/
	@if [ -d packaging/relay ]; then \
	    cp -R packaging/relay/. $(DESTDIR)$(PREFIX)/share/kefu/relay/; fi
	@for dir in diag-plugins/*/; do \
	    [ -f $$dir/plugin.json ] || continue; \
	    cp -R $$dir $(DESTDIR)$(PREFIX)/share/kefu/plugins/; done
	find $(DESTDIR)$(PREFIX)/share/kefu/plugins -name __pycache__ -prune -exec rm -rf {} +
	sed 's|@BINDIR@|$(PREFIX)/bin|g' $(POLKIT_POLICY).in > $(DESTDIR)$(PREFIX)/share/polkit-1/actions/$(notdir $(POLKIT_POLICY))
	chmod 0644 $(DESTDIR)$(PREFIX)/share/polkit-1/actions/$(notdir $(POLKIT_POLICY))
	@for page in $(MAN_PAGES); do \
	    name=$$(basename $$page); section=$${name##*.}; \
	    [ "$${name%.*}" != kefu-helper ] || [ -x $(B)/kefu-helper ] || continue; \
	    echo "install -m 0644 $$page $(DESTDIR)$(PREFIX)/share/man/man$$section/"; \
	    install -m 0644 $$page $(DESTDIR)$(PREFIX)/share/man/man$$section/; done
	@if [ -x $(B)/kefu-helper ]; then \
	    echo "install -m 0755 $(B)/kefu-helper $(DESTDIR)$(PREFIX)/bin/"; \
	    install -m 0755 $(B)/kefu-helper $(DESTDIR)$(PREFIX)/bin/; fi
	@if [ -f $(HELPER_DESKTOP) ] && [ -x $(B)/kefu-helper ]; then \
	    echo "install -m 0644 $(HELPER_DESKTOP) $(DESTDIR)$(PREFIX)/share/applications/"; \
	    install -D -m 0644 $(HELPER_DESKTOP) \
	        $(DESTDIR)$(PREFIX)/share/applications/kefu-helper.desktop; fi
	@for mo in $(wildcard $(B)/locale/*/LC_MESSAGES/kefu.mo); do \
	    lang=$$(basename $$(dirname $$(dirname $$mo))); \
	    echo "install -m 0644 $$mo $(DESTDIR)$(PREFIX)/share/locale/$$lang/LC_MESSAGES/"; \
	    install -D -m 0644 $$mo $(DESTDIR)$(PREFIX)/share/locale/$$lang/LC_MESSAGES/kefu.mo; done

	install -d $(DESTDIR)$(PREFIX)/lib/systemd/user $(DESTDIR)$(PREFIX)/lib/systemd/system
	@for unit in kefu-watch.service kefu-watch.timer; do \
	    sed 's|@bindir@|$(PREFIX)/bin|g' packaging/systemd/$$unit \
	        > $(DESTDIR)$(PREFIX)/lib/systemd/user/$$unit; done
	@for unit in kefu-watch-smart.service kefu-watch-smart.timer; do \
	    sed 's|@bindir@|$(PREFIX)/bin|g' packaging/systemd/$$unit \
	        > $(DESTDIR)$(PREFIX)/lib/systemd/system/$$unit; done

# Debian packages (kefu-helper, kefu-console, kefu-relay) built offline with debhelper from a
# copy of this tree, with packaging/debian as its debian/ and the changelog's version read
# from VERSION; lintian checks them. The packages and the .changes land in $(DEB_B).
DEB_B   = build/deb
DEB_SRC = $(DEB_B)/kefu-$(VERSION)
deb: deps-package
	rm -rf $(DEB_B)
	mkdir -p $(DEB_SRC)
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
	    git ls-files -z --cached --others --exclude-standard | \
	        xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
	        tar --null -T - -cf - | tar -xf - -C $(DEB_SRC); \
	else \
	    tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C $(DEB_SRC); \
	fi
	rm -rf $(DEB_SRC)/debian
	cp -R packaging/debian $(DEB_SRC)/debian
	packaging/debian/make-changelog $(VERSION) > $(DEB_SRC)/debian/changelog
	rm $(DEB_SRC)/debian/make-changelog
	cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc
	lintian --fail-on error,warning $(DEB_B)/kefu_$(VERSION)_*.changes

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)

# WhatsApp monitoring service: build, set-up, run and test.
#   make            build build/libcommon.a and every program into build/bin/
#   make deps       install the Debian packages the project needs (when missing)
#   make run        deps, then build, then local PostgreSQL, nginx and the programs (scripts/dev-up)
#   make stop       stop what `make run` started (scripts/dev-down)
#   make test       deps, then unit + integration tests under ASan and UBSan
#   make faults     the fault suite alone (also part of make test)
#   make bench      benchmark figures (a table; never gates anything)
#   make fuzz       clang + libFuzzer: each tests/fuzz harness for FUZZ_SECONDS (default 600)
#   make fuzz-replay  replay the committed fuzz corpora with $(CC) (make test does it too)
#   make clean

# The flags every compile shares: the normal build, the sanitizer build and the fuzz build
# (clang) derive theirs from these, so a warning added here applies to all three.
STDFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
WARNFLAGS = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith -Wstrict-prototypes \
            -Wmissing-prototypes
SANFLAGS  = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

SAN ?= 0
ifeq ($(SAN),1)
BUILD    ?= build/asan
OPTFLAGS  = $(SANFLAGS)
else
BUILD    ?= build
OPTFLAGS  = -O2 -g -D_FORTIFY_SOURCE=2
endif

# pkg-config runs when a recipe first needs its answer, not when this file is read: `make run`
# and `make test` install the -dev packages (deps) before anything is compiled, and on a fresh
# machine pkg-config knows nothing of them until then. Each is computed once per make.
PKGS     = libpq json-c libcurl openssl
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $$(PKGS) 2>/dev/null))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs $$(PKGS) 2>/dev/null))$(PKG_LIBS)

CC      ?= cc
CFLAGS  += $(STDFLAGS) -pthread $(WARNFLAGS) -fstack-protector-strong -fPIE $(OPTFLAGS) -Icommon \
           $(PKG_CFLAGS)
LDFLAGS += -pie -Wl,-z,relro,-z,now $(OPTFLAGS)
LIBS     = -lfcgi $(PKG_LIBS) -lm -pthread

COMMON_SRC := $(wildcard common/*/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen/migrations.o
SQL_FILES  := $(sort $(wildcard sql/*.sql))
COMMON_HDR := $(wildcard common/*/*.h)
# Each object lists the headers it includes in a .d file next to it (-MMD), with an empty
# rule for each header (-MP) so that a header removed or moved breaks no build.
# A program or test built from its source in one step puts its .d under dep/ (not beside the
# binary: tests/run-all.sh runs every tests/test_*).
DEPFLAGS    = -MMD -MP
LIBCOMMON  := $(BUILD)/libcommon.a

CGI_PROGS  := $(patsubst cgi/%.c,%,$(wildcard cgi/*.c))
PROGS      := $(CGI_PROGS) cron
BINS       := $(PROGS:%=$(BUILD)/bin/%)

UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# tests/fuzz/fuzz_<name>.c: one harness per parser of untrusted input, seeds in
# tests/fuzz/corpus/<name>/. Replayed with $(CC) as a regression test; fuzzed with
# clang + libFuzzer against common/*/*.c compiled again by clang, in FUZZ_BUILD.
FUZZ_NAMES   := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_REPLAY  := $(FUZZ_NAMES:%=$(BUILD)/fuzz/replay_%)
FUZZ_SECONDS ?= 600
FUZZ_CC      ?= clang
FUZZ_BUILD   := build/libfuzzer
# clang's -Wformat-nonliteral (part of -Wformat=2) flags log.c's vprintf wrapper; gcc does not.
FUZZ_CFLAGS   = $(STDFLAGS) $(WARNFLAGS) -Wno-format-nonliteral $(SANFLAGS) -Icommon -Itests/fuzz \
                $(PKG_CFLAGS)
FUZZ_OBJ     := $(COMMON_SRC:%.c=$(FUZZ_BUILD)/obj/%.o) $(FUZZ_BUILD)/obj/gen/migrations.o
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

DEBIAN_PKGS = build-essential pkg-config libfcgi-dev libfcgi-bin spawn-fcgi nginx postgresql \
              postgresql-contrib libpq-dev libcurl4-openssl-dev libjson-c-dev libssl-dev tzdata \
              libcmocka-dev curl ca-certificates openssl procps jq clang-format python3 \
              apache2-utils pgbouncer chromium chromium-driver python3-selenium \
              fonts-liberation prometheus-alertmanager prometheus python3-aiosmtpd

.PHONY: all deps run stop test faults bench unit integration clean format check-format \
        fuzz fuzz-replay fuzz-replay-bins
# Keep the objects of the cgi/ and cron/ programs between builds.
.SECONDARY:

all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(BUILD)/gen/migrations.c: $(SQL_FILES) scripts/embed-sql
	@mkdir -p $(dir $@)
	scripts/embed-sql $(SQL_FILES) > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/migrations.o: $(BUILD)/gen/migrations.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(LIBCOMMON): $(COMMON_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/cron: $(BUILD)/obj/cron/cron.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBCOMMON) $(LIBS)

$(BUILD)/bin/%: $(BUILD)/obj/cgi/%.o $(LIBCOMMON)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIBCOMMON) $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBCOMMON)
	@mkdir -p $(dir $@) $(BUILD)/dep/tests
	$(CC) $(CFLAGS) $(DEPFLAGS) -MF $(BUILD)/dep/tests/$*.d -Wno-missing-prototypes -Itests/unit \
	    $(LDFLAGS) -o $@ $< $(LIBCOMMON) $(LIBS) -lcmocka

# The installer, replaceable for tests/build/test_deps_order.sh.
INSTALL_DEPS ?= scripts/install-deps

deps:
	@$(INSTALL_DEPS) $(DEBIAN_PKGS)

# deps first, then the build in a make of its own: what it compiles with is read after the
# packages are there, even with -j.
run: deps
	$(MAKE) all
	scripts/dev-up

stop:
	scripts/dev-down

unit: $(UNIT_BINS)

# Everything under ASan + UBSan, in its own build directory.
test: deps
	$(MAKE) SAN=1 all unit fuzz-replay-bins
	tests/run-all.sh build/asan

# The fault suite alone (make test runs it too).
faults: deps
	$(MAKE) SAN=1 all
	BIN_DIR=$(CURDIR)/build/asan/bin tests/integration/run.sh tests/faults/test_faults.sh

# Figures, not tests: prints a table (tests/bench/bench.sh says what each row measures).
bench: deps
	$(MAKE) all $(BUILD)/bench/noop $(BUILD)/bench/events_load
	BIN_DIR=$(CURDIR)/build/bin BENCH_NOOP_DIR=$(CURDIR)/$(BUILD)/bench tests/bench/bench.sh

$(BUILD)/bench/noop: tests/bench/noop.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< -lfcgi

# The load client of the POST /events rows (signs each request: ab cannot).
$(BUILD)/bench/events_load: tests/bench/events_load.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PKG_LIBS)

# The replay: the harness with tests/fuzz/replay.c as main(), linked like a unit test. With two
# sources gcc writes the .d of the last: the harness, whose headers vary; replay.c's are listed.
$(BUILD)/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h common/core/util.h $(LIBCOMMON)
	@mkdir -p $(dir $@) $(BUILD)/dep/fuzz
	$(CC) $(CFLAGS) $(DEPFLAGS) -MF $(BUILD)/dep/fuzz/replay_$*.d -Itests/fuzz $(LDFLAGS) -o $@ \
	    tests/fuzz/replay.c tests/fuzz/fuzz_$*.c $(LIBCOMMON) $(LIBS)

fuzz-replay-bins: $(FUZZ_REPLAY)

fuzz-replay: $(FUZZ_REPLAY)
	@for n in $(FUZZ_NAMES); do \
	    printf 'replay_%s: ' "$$n"; \
	    $(BUILD)/fuzz/replay_$$n tests/fuzz/corpus/$$n || exit 1; \
	done

# libFuzzer: clang objects of common/*/*.c with coverage, one binary per harness. New
# inputs go to $(FUZZ_BUILD)/corpus/<name>, findings to $(FUZZ_BUILD)/artifacts/<name>/.
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/gen/migrations.c: $(SQL_FILES) scripts/embed-sql
	@mkdir -p $(dir $@)
	scripts/embed-sql $(SQL_FILES) > $@.tmp && mv $@.tmp $@

$(FUZZ_BUILD)/obj/gen/migrations.o: $(FUZZ_BUILD)/gen/migrations.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(FUZZ_BUILD)/libcommon.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_BUILD)/libcommon.a
	@mkdir -p $(FUZZ_BUILD)/dep
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(DEPFLAGS) -MF $(FUZZ_BUILD)/dep/fuzz_$*.d -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_BUILD)/libcommon.a $(LIBS)

fuzz:
	@command -v $(FUZZ_CC) >/dev/null || scripts/install-deps clang libclang-rt-dev
	$(MAKE) $(FUZZ_BINS)
	tests/fuzz/run-libfuzzer.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_NAMES)

# The .d files of whatever was built before (none on a clean tree: everything is built then).
-include $(shell find $(BUILD) $(FUZZ_BUILD) -name '*.d' 2>/dev/null)

clean:
	rm -rf build common/libcommon.a  # the second: where the library was built before

format:
	clang-format -i $(COMMON_SRC) $(COMMON_HDR) cgi/*.c cron/*.c tests/unit/*.c tests/unit/*.h \
	    tests/fuzz/*.c tests/fuzz/*.h tests/bench/*.c

check-format:
	clang-format --dry-run -Werror $(COMMON_SRC) $(COMMON_HDR) cgi/*.c cron/*.c tests/unit/*.c \
	    tests/unit/*.h tests/fuzz/*.c tests/fuzz/*.h tests/bench/*.c

# Reel Studio — the two set-up commands are `make run` and `make test`.
# Each creates .venv when missing, installs the project, and (as root) the system libraries Qt needs.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
# Qt's xcb/offscreen platforms, Qt Multimedia (PulseAudio), fonts, and Xvfb for real windows / screenshots.
# binutils (readelf, strip) and desktop-file-utils: `make package` slims the bundle, `make deb` validates its desktop entry.
# chromium + chromium-driver: the share page and the Uppy client are tested in a real browser (no browser download).
# festival + festvox-us-slt-hts: the speech tests speak known sentences to the caption engine.
# pulseaudio: a real sound server (null speakers and microphone) for the playback and device tests.
APT_PACKAGES := libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
	libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 \
	libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libpulse0 fonts-dejavu-core xvfb xauth \
	binutils desktop-file-utils chromium chromium-driver festival festvox-us-slt-hts pulseaudio

.PHONY: setup system-deps run test soak bench package package-test deb deb-test screenshots clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(MAKE) --no-print-directory system-deps
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then echo "Install Qt's system libraries with your package manager: $$missing"; exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
		echo "Installing system libraries: $$missing"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null; \
	else \
		echo "Qt needs these system libraries; run:"; \
		echo "  sudo apt-get install -y $$missing"; \
	fi

run: setup
	@if [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ "$$QT_QPA_PLATFORM" != offscreen ] && command -v xvfb-run >/dev/null; then \
		echo "No display found: starting Reel Studio on a virtual screen (xvfb-run)."; \
		xvfb-run -a -s "-screen 0 1400x900x24" $(VENV)/bin/studio $(ARGS); \
	else $(VENV)/bin/studio $(ARGS); fi

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# The long soak: the real window under Xvfb, 6 min on Record (live preview) + 4.5 min in the editor (over ten minutes).
# make test runs the same test for about 40 s a phase.
soak: setup
	SOAK_RECORD_S=360 SOAK_EDITOR_S=270 $(PY) -m pytest -q -s -p no:cacheprovider tests/test_soak.py

bench: setup
	QT_QPA_PLATFORM=offscreen $(PY) bench/run.py $(BENCH_ARGS)

# dist/studio: the one-folder app, slimmed by packaging/slim.py (the spec runs it; it prints the size breakdown).
package: setup
	$(VENV)/bin/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build packaging/studio.spec

# dist/reel-studio_<version>_amd64.deb from dist/studio (builds it first when missing; never twice).
deb: setup
	@test -x dist/studio/studio || $(MAKE) --no-print-directory package
	$(PY) packaging/build_deb.py --dist dist/studio --out dist --work build/deb

# The packaged app and its .deb, one PyInstaller build: the folder's smoke tests, then (as root)
# dpkg -i, `studio --version`, the window under Xvfb, dpkg -r. Not root: the .deb test says what it would do and skips.
package-test: package
	@$(MAKE) --no-print-directory deb
	STUDIO_PACKAGED=dist/studio/studio STUDIO_DEB=$$(ls dist/*_amd64.deb | head -1) QT_QPA_PLATFORM=offscreen \
		$(PY) -m pytest -q -p no:cacheprovider -m packaged tests/test_packaged.py tests/test_deb.py

screenshots: setup
	$(PY) tools/screenshots.py docs/screenshots

clean:
	rm -rf build dist .pytest_cache

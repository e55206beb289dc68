#!/usr/bin/env bash
# Install (or remove) bpviz's menu entry, icons, AppStream metadata and the experiment
# file type (application/x-bpviz-experiment) for the current user, under
# ${XDG_DATA_HOME:-~/.local/share}. Works in two places:
#
#   dist/bpviz/install-desktop.sh      beside a built app: the entry starts that app
#   packaging/install-desktop.sh       in the source tree: the entry starts the 'bpviz'
#                                      found on PATH now (pip install .), or --exec PATH
#
#   install-desktop.sh [--exec COMMAND] [--uninstall]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
exec_cmd=""
uninstall=0
while [ $# -gt 0 ]; do
    case "$1" in
        --exec) exec_cmd="${2:?--exec needs a command}"; shift 2 ;;
        --uninstall) uninstall=1; shift ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-desktop.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

if [ -x "$HERE/bpviz" ] && [ -d "$HERE/share" ]; then  # beside a built app
    src_desktop="$HERE/share/applications/io.github.bpviz.desktop"
    src_metainfo="$HERE/share/metainfo/io.github.bpviz.metainfo.xml"
    src_mime="$HERE/share/mime/packages/io.github.bpviz.mime.xml"
    src_icons="$HERE/share/icons/hicolor"
    src_svg="$src_icons/scalable/apps/bpviz.svg"
    : "${exec_cmd:=$HERE/bpviz}"
else                                                    # in the source tree
    root="$(dirname "$HERE")"
    src_desktop="$root/resources/linux/io.github.bpviz.desktop"
    src_metainfo="$root/resources/linux/io.github.bpviz.metainfo.xml"
    src_mime="$root/resources/linux/io.github.bpviz.mime.xml"
    src_icons="$root/resources/icons/hicolor"
    src_svg="$root/resources/icons/bpviz.svg"
    # A venv's bpviz is not on the desktop session's PATH: name it by its full path.
    : "${exec_cmd:=$(command -v bpviz || echo bpviz)}"
fi

sizes="16 32 48 64 128 256"
if [ "$uninstall" = 1 ]; then
    rm -f "$DATA/applications/io.github.bpviz.desktop" \
          "$DATA/metainfo/io.github.bpviz.metainfo.xml" \
          "$DATA/mime/packages/io.github.bpviz.mime.xml" \
          "$DATA/icons/hicolor/scalable/apps/bpviz.svg"
    for n in $sizes; do rm -f "$DATA/icons/hicolor/${n}x${n}/apps/bpviz.png"; done
    echo "install-desktop.sh: removed bpviz's desktop files from $DATA"
else
    mkdir -p "$DATA/applications" "$DATA/metainfo" "$DATA/mime/packages" \
             "$DATA/icons/hicolor/scalable/apps"
    # Exec and TryExec name the command to start (quoted if it has spaces); Exec passes
    # the file opened (%f: "Open with", a double-click on an experiment file).
    case "$exec_cmd" in *" "*) exec_line="\"$exec_cmd\"" ;; *) exec_line="$exec_cmd" ;; esac
    sed -e "s|^Exec=.*|Exec=$exec_line %f|" -e "s|^TryExec=.*|TryExec=$exec_cmd|" \
        "$src_desktop" > "$DATA/applications/io.github.bpviz.desktop"
    cp "$src_metainfo" "$DATA/metainfo/"
    cp "$src_mime" "$DATA/mime/packages/"
    cp "$src_svg" "$DATA/icons/hicolor/scalable/apps/bpviz.svg"
    for n in $sizes; do
        mkdir -p "$DATA/icons/hicolor/${n}x${n}/apps"
        cp "$src_icons/${n}x${n}/apps/bpviz.png" "$DATA/icons/hicolor/${n}x${n}/apps/"
    done
    echo "install-desktop.sh: installed bpviz's menu entry (Exec=$exec_line %f), icons," \
         "metainfo and file type into $DATA"
fi
# Refresh the caches where the tools exist (menus also notice the change by themselves).
if command -v update-mime-database >/dev/null && [ -d "$DATA/mime/packages" ]; then
    update-mime-database "$DATA/mime" || true
fi
if command -v update-desktop-database >/dev/null; then
    update-desktop-database -q "$DATA/applications" || true
fi
touch "$DATA/icons/hicolor" 2>/dev/null || true
if command -v gtk-update-icon-cache >/dev/null && [ -f "$DATA/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
fi

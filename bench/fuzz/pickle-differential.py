#!/usr/bin/env python3
"""Differential check of Drydock's pickle scanner against Python's own pickle.

    bench/fuzz/pickle-differential.py [--fuzz PATH] [--write-cases DIR] PATH...

PATH: pickle files or folders of them (the corpus, an AFL queue). The scanner's side comes from
`Drydock.Fuzz pickle-verdicts PATH...` (the built harness, --fuzz, default bench/out/fuzz/build/Drydock.Fuzz): its
verdict on each file, read as a .pkl by the whole model-file scanner, and the allow-list it judges globals by. Each
file is then loaded, as torch.load reads a legacy checkpoint (up to six pickles in a row), by Python's C Unpickler
whose find_class records every global the load asks for and resolves nothing real: an allow-listed global becomes an
inert stand-in, any other stops the load. A file the scanner calls safe while Python asks for a global outside the
allow-list is a finding (exit 1). Nothing is imported and nothing from the files runs.

--write-cases DIR writes the hand-built pickles below (the opcode tricks a scanner may miss) into DIR as diff-*.pkl
first, so they join the corpus and are checked with it (bench/fuzz/corpus/pickle holds them).

Python's standard library only.
"""

import _compat_pickle
import io
import json
import os
import pickle
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class Refused(Exception):
    pass


class Stand:
    """An inert stand-in for an allow-listed global: any call, attribute set, append or item set is accepted."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Stand()

    def __setstate__(self, state):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def add(self, item):
        pass

    def __setitem__(self, key, value):
        pass


def names_of(module, name):
    """What a Python 3 load may import for (module, name): the name itself and, for protocols 0-2 with fix_imports
    (the default), the Python 3 name it is mapped to."""
    found = {(module, name)}
    if (module, name) in _compat_pickle.NAME_MAPPING:
        found.add(_compat_pickle.NAME_MAPPING[(module, name)])
    elif module in _compat_pickle.IMPORT_MAPPING:
        found.add((_compat_pickle.IMPORT_MAPPING[module], name))
    return found


class Recording(pickle.Unpickler):
    def __init__(self, stream, allow, asked):
        super().__init__(stream, encoding="latin1")  # numpy's and joblib's choice: every byte string is text
        self.allow = allow
        self.asked = asked

    def find_class(self, module, name):
        names = names_of(module, name)
        self.asked.extend(f"{m}.{n}" for m, n in sorted(names))
        bad = [f"{m}.{n}" for m, n in names if f"{m}.{n}" not in self.allow]
        if bad:
            raise Refused(", ".join(sorted(bad)))
        return Stand

    def persistent_load(self, pid):  # torch's storages: the load goes on past them
        return Stand()


def load(data, allow):
    """Every global a torch.load-like read of the file asks for, and the disallowed ones among them."""
    asked, disallowed = [], []
    stream = io.BytesIO(data)
    for i in range(6):
        at = stream.tell()
        if at >= len(data) or (i > 0 and data[at] != 0x80):
            break
        try:
            Recording(stream, allow, asked).load()
        except Refused as e:
            disallowed.append(str(e))
            break
        except RecursionError:
            break
        except Exception:
            break
    return asked, disallowed


def verdicts(fuzz, paths):
    out = subprocess.run([fuzz, "pickle-verdicts", *paths], check=True, stdout=subprocess.PIPE).stdout
    return json.loads(out)


# ---------------------------------------------------------------------------------------------------------------
# Hand-built pickles: the opcodes and tricks a scanner that follows the stack may get wrong.

def short_unicode(s):
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def cases():
    c = {}
    os_system = (b"os", b"system")
    # STACK_GLOBAL with strings from the memo, and through DUP.
    c["memo-stack-global.pkl"] = (b"\x80\x04" + short_unicode("os") + b"\x94" + short_unicode("system") + b"\x94"
                                  + b"h\x00h\x01\x93" + b"\x8c\x02id\x85R.")
    c["dup-stack-global.pkl"] = b"\x80\x04" + short_unicode("posix") + b"2" + b"0" + short_unicode("system") + b"\x93)R."
    # A memo slot overwritten after a harmless use: the second recall holds the dangerous string.
    c["memo-overwrite.pkl"] = (b"\x80\x04" + short_unicode("collections") + b"q\x00" + short_unicode("OrderedDict") + b"\x93)R0"
                               + short_unicode("os") + b"q\x00" + b"0" + b"h\x00" + short_unicode("system") + b"\x93)R.")
    # STRING (protocol 0) with escapes and UNICODE with \\u escapes: the strings Python decodes are not the bytes.
    c["string-escape.pkl"] = b"S'o\\x73'\nS'system'\n\x93(S'id'\ntR."
    c["unicode-escape.pkl"] = b"V\\u006fs\nVsystem\n\x93(Vid\ntR."
    # BINSTRING / SHORT_BINSTRING read as text (encoding='latin1').
    c["binstring.pkl"] = b"\x80\x02U\x02osU\x06system\x93)R."
    c["binstring4.pkl"] = b"\x80\x02T" + struct.pack("<i", 2) + b"osT" + struct.pack("<i", 6) + b"system\x93)R."
    # Protocol 0 text GLOBAL, CRLF line ends, a Python 2 name mapped to a Python 3 one.
    c["p0-global.pkl"] = b"cos\nsystem\n(S'id'\ntR."
    c["p0-global-crlf.pkl"] = b"ccollections\r\nOrderedDict\r\n)R."
    c["p2-compat-name.pkl"] = b"\x80\x02c__builtin__\nreduce\n)R."
    c["p2-compat-module.pkl"] = b"\x80\x02ccopy_reg\n_reconstructor\n)R."
    # INST and OBJ.
    c["inst.pkl"] = b"(S'id'\nios\nsystem\n."
    c["obj.pkl"] = b"\x80\x02(cos\nsystem\nS'id'\no."
    # A dotted name (protocol 4 resolves it attribute by attribute).
    c["dotted-name.pkl"] = b"\x80\x04" + short_unicode("collections") + short_unicode("OrderedDict.fromkeys") + b"\x93)R."
    # A harmless first pickle, then a second one (legacy torch files are several in a row).
    c["second-pickle.pkl"] = b"\x80\x02K\x01.\x80\x02cos\nsystem\n)R."
    # A pickle inside a byte string handed to a loader.
    inner = b"\x80\x02cos\nsystem\n)R."
    c["nested-pickle.pkl"] = b"\x80\x03c_pickle\nloads\nC" + bytes([len(inner)]) + inner + b"\x85R."
    # The extension registry (empty by default; a process that registers codes resolves them through find_class).
    c["ext1.pkl"] = b"\x80\x02\x82\x01)R."
    c["ext2.pkl"] = b"\x80\x02\x83\x01\x00)R."
    c["ext4.pkl"] = b"\x80\x02\x84\x01\x00\x00\x00)R."
    # A MARK stored in the memo and recalled (Python refuses the store; a scanner that accepts it must not lose track).
    c["memo-mark.pkl"] = b"\x80\x02(q\x00" + b"cos\nsystem\n)R."
    # An allow-listed global and nothing else: safe for both.
    c["allowed.pkl"] = b"\x80\x02ccollections\nOrderedDict\n)R."
    return c


def main(argv):
    fuzz = os.path.join(REPO, "bench", "out", "fuzz", "build", "Drydock.Fuzz")
    paths = []
    args = iter(argv)
    for a in args:
        if a == "--fuzz":
            fuzz = next(args)
        elif a == "--write-cases":
            folder = next(args)
            os.makedirs(folder, exist_ok=True)
            for name, data in cases().items():
                with open(os.path.join(folder, "diff-" + name), "wb") as f:
                    f.write(data)
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            paths.append(a)
    if not paths:
        print("usage: pickle-differential.py [--fuzz PATH] [--write-cases DIR] PATH...", file=sys.stderr)
        return 2

    # A folder's own files (AFL's queue keeps its bookkeeping in .state/, which is left out).
    files_given = []
    for path in paths:
        if os.path.isdir(path):
            files_given += sorted(os.path.join(path, n) for n in os.listdir(path)
                                  if not n.startswith(".") and os.path.isfile(os.path.join(path, n)))
        else:
            files_given.append(path)
    scanner = verdicts(fuzz, files_given)
    allow = set(scanner["allowList"])
    if not allow:
        print("the scanner exported an empty allow-list", file=sys.stderr)
        return 2
    files = scanner["files"]
    safe = findings = loaded_globals = 0
    for entry in files:
        with open(entry["path"], "rb") as f:
            data = f.read()
        asked, disallowed = load(data, allow)
        loaded_globals += len(asked)
        if entry["safe"]:
            safe += 1
            if disallowed:
                findings += 1
                print(f"FINDING {entry['path']}: the scanner calls it safe; Python asks for {ascii('; '.join(disallowed))}")
    print(f"{len(files)} files, {safe} called safe by the scanner, {loaded_globals} globals asked for by Python, "
          f"{findings} disagreements")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

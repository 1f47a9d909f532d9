"""The ```sh blocks of a Markdown file, in order, as tests/e2e/test_readmes.sh
runs them. A block right after a comment

    <!-- readme-test: skip: REASON -->

is not run; it is written as a line "#SKIP REASON". Every other block is
written as its text followed by a line "#END". Usage: readme_blocks.py FILE
"""
import re
import sys

BLOCK = re.compile(r"(?:<!--\s*readme-test:\s*skip:\s*(?P<why>.*?)\s*-->\s*\n)?"
                   r"^```sh\n(?P<code>.*?)^```", re.S | re.M)

text = open(sys.argv[1], encoding="utf-8").read()
for m in BLOCK.finditer(text):
    if m.group("why"):
        print("#SKIP " + m.group("why"))
    else:
        sys.stdout.write(m.group("code"))
        print("#END")

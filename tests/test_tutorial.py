"""Every doctest example of docs/tutorial.md runs and gives the numbers the text states."""

import doctest
from pathlib import Path

TUTORIAL = Path(__file__).resolve().parent.parent / "docs" / "tutorial.md"


def test_tutorial_examples_run():
    parser = doctest.DocTestParser()
    # a closing code fence would read as expected output: blank every fence line out
    lines = TUTORIAL.read_text(encoding="utf-8").splitlines()
    text = "\n".join("" if line.startswith("```") else line for line in lines)
    test = parser.get_doctest(text, {}, "tutorial.md", str(TUTORIAL), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert len(test.examples) >= 15, f"the tutorial has only {len(test.examples)} examples"
    assert runner.failures == 0, f"{runner.failures} of {len(test.examples)} tutorial examples failed (see the output above)"

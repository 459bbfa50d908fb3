from relc.compiler.cli import run

run()

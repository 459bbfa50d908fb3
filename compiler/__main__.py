from relc.compiler.entry import run

run()

from . import main

main(prog_name="reviewer-app")

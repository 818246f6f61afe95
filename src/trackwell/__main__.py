from trackwell.cli import main

main()

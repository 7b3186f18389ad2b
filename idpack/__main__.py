from idpack.cli import main

main()

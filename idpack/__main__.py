from idpack.commands import main

main()

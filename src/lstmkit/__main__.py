from lstmkit.launch import main

main()

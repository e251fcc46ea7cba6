System.Console.WriteLine("llcuda");
